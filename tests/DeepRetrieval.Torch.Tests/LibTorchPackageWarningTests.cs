namespace DeepRetrieval.Torch.Tests;

/// <summary>
/// The DRT0001 warning of DeepRetrieval.Torch.targets, run through MSBuild on throw-away projects in a temporary folder: a
/// consumer gets TorchSharp through DeepRetrieval.Torch, so each project references TorchSharp (or TorchSharp-cpu) and
/// imports the targets as the package's build/ folder does. Restore uses the packages this test project already restored.
/// </summary>
public sealed class LibTorchPackageWarningTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dr-libtorch-warning-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void ExecutableWithTorchSharpButNoLibTorch_IsWarnedToAddTorchSharpCpu_UnlessSuppressed()
    {
        string project = WriteProject("bindings_only", "Exe", "TorchSharp");
        var run = Run(project, restore: true);
        run.ExitCode.Should().Be(0, run.Output);
        Warnings(run.Output).Should().ContainSingle().Which.Should().Contain("TorchSharp-cpu").And.Contain("DllNotFoundException").And.Contain("bindings_only");

        var suppressed = Run(project, restore: false, "-p:DeepRetrievalSuppressLibTorchWarning=true");
        suppressed.ExitCode.Should().Be(0, suppressed.Output);
        Warnings(suppressed.Output).Should().BeEmpty();
    }

    [Fact]
    public void ExecutableWithTorchSharpCpu_IsNotWarned()
    {
        var run = Run(WriteProject("with_cpu", "Exe", "TorchSharp-cpu"), restore: true);
        run.ExitCode.Should().Be(0, run.Output);
        run.Output.Should().Contain("Done building target \"DeepRetrievalCheckLibTorchPackage\"", "the check ran after the assets were resolved");
        Warnings(run.Output).Should().BeEmpty();
    }

    [Fact]
    public void LibraryWithoutLibTorch_IsNotWarned_ItsApplicationChoosesTheBackend()
    {
        var run = Run(WriteProject("a_library", "Library", "TorchSharp"), restore: true);
        run.ExitCode.Should().Be(0, run.Output);
        Warnings(run.Output).Should().BeEmpty();
    }

    private string WriteProject(string name, string outputType, string package)
    {
        string directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        string project = Path.Combine(directory, name + ".csproj");
        File.WriteAllText(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>{outputType}</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{package}" Version="{typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3)}" />
              </ItemGroup>
              <Import Project="{NativeTestSupport.TargetsFile()}" />
            </Project>
            """);
        return project;
    }

    // Restore and the package-asset resolution of a build, where the check runs (a full build adds only compilation and copying).
    private (int ExitCode, string Output) Run(string project, bool restore, params string[] extra) =>
        NativeTestSupport.Run(NativeTestSupport.DotnetHost(),
            [
                "msbuild", project, "-nologo", "-v:d", "-nodeReuse:false", "-noAutoResponse", "-t:ResolvePackageAssets",
                .. restore ? new[] { "-restore" } : [], .. extra,
            ],
            _root, msbuildChild: true);

    // Each warning appears in the log and again in the summary; the node prefix ("1:7>") is dropped to count it once.
    private static string[] Warnings(string output) =>
        output.Split('\n').Where(l => l.Contains("warning DRT0001", StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l.Trim(), @"^[\d:]+>", "")).Distinct().ToArray();
}
