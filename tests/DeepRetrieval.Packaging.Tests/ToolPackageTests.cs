using System.Reflection;
using System.Text.Json;

namespace DeepRetrieval.Packaging.Tests;

/// <summary>The deepretrieval tool as a user gets it: installed from the packed package with <c>dotnet tool install</c>, then run.</summary>
[Collection(PackedCollection.Name)]
public sealed class ToolPackageTests(PackedPackages packages)
{
    // Three real photos (python3-skimage and mate-backgrounds, installed by .ci/run).
    private static readonly string[] Photos =
    [
        "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
        "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
        "/usr/share/backgrounds/mate/nature/LadyBird.jpg",
    ];

    [Fact]
    public void TheTool_InstallsWithDotnetTool_ThenIndexesAndSearchesPhotos()
    {
        string work = Directory.CreateTempSubdirectory("deepretrieval-tool-").FullName;
        try
        {
            string tools = Path.Combine(work, "tools"), photos = CopyPhotos(work), gallery = Path.Combine(work, "gallery");

            string deepretrieval = Install(tools, work);

            var (indexCode, indexOutput) = ProcessRunner.Run(deepretrieval, $"index \"{photos}\" --out \"{gallery}\"", work, TimeSpan.FromMinutes(3));
            indexCode.Should().Be(0, indexOutput);
            indexOutput.Should().Contain("3 images (3 new, 0 changed, 0 removed, 0 skipped), 512-d, HNSW32, model resnet18");

            var (searchCode, searchOutput) = ProcessRunner.Run(deepretrieval, $"search \"{gallery}\" \"{Path.Combine(photos, "chelsea.png")}\" --k 3 --json", work, TimeSpan.FromMinutes(3));
            searchCode.Should().Be(0, searchOutput);
            // Redirected, the tool logs on stderr (merged here) and prints the JSON on stdout: take the JSON array.
            string json = searchOutput[searchOutput.IndexOf("[\n", StringComparison.Ordinal)..(searchOutput.LastIndexOf(']') + 1)];
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement[] results = [.. document.RootElement[0].GetProperty("results").EnumerateArray()];
            results.Select(r => r.GetProperty("relativePath").GetString()).Should().HaveCount(3).And.StartWith("chelsea.png");
            results[0].GetProperty("score").GetSingle().Should().BeApproximately(1f, 1e-4f);

            var (badCode, badOutput) = ProcessRunner.Run(deepretrieval, $"search \"{photos}\" x.jpg", work, TimeSpan.FromMinutes(1));
            badCode.Should().Be(1);
            badOutput.Trim().Should().StartWith("error: ").And.Contain("is not a gallery").And.NotContain("   at ");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void TheInstalledTool_RunsATorchSharpBackbone_WithALibtorchFromOutsideThePackage()
    {
        string work = Directory.CreateTempSubdirectory("deepretrieval-tool-torch-").FullName;
        try
        {
            string tools = Path.Combine(work, "tools"), photos = CopyPhotos(work), gallery = Path.Combine(work, "gallery");
            string deepretrieval = Install(tools, work);
            string[] packed = Directory.GetFiles(tools, "*", SearchOption.AllDirectories);
            packed.Should().NotContain(f => Path.GetFileName(f).StartsWith("libtorch", StringComparison.Ordinal) || Path.GetFileName(f) == "libc10.so",
                "libtorch is found at run time, not shipped");

            // The bindings the package ships load on systems whose libstdc++ lacks GLIBCXX_3.4.32 only when patched (DeepRetrieval.Torch.targets).
            string bindings = packed.Single(f => f.EndsWith("/runtimes/linux-x64/native/libLibTorchSharp.so", StringComparison.Ordinal));
            if (SystemLibStdCxxLacksGlibcxx332() && Readelf(bindings) is string versions)
                versions.Split('\n').Where(l => l.Contains("Name: GLIBCXX_3.4.32", StringComparison.Ordinal)).Should().OnlyContain(l => l.Contains("Flags: WEAK"));

            var libtorch = new Dictionary<string, string> { ["DEEPRETRIEVAL_LIBTORCH"] = LibTorchFolder };
            var (indexCode, indexOutput) = ProcessRunner.Run(deepretrieval, $"index \"{photos}\" --out \"{gallery}\" --model small_cnn --weights random", work, TimeSpan.FromMinutes(3), libtorch);
            indexCode.Should().Be(0, indexOutput);
            indexOutput.Should().Contain("3 images (3 new, 0 changed, 0 removed, 0 skipped), 128-d, HNSW32, model small_cnn");
            var (searchCode, searchOutput) = ProcessRunner.Run(deepretrieval, $"search \"{gallery}\" \"{Path.Combine(photos, "chelsea.png")}\" --k 1", work, TimeSpan.FromMinutes(3), libtorch);
            searchCode.Should().Be(0, searchOutput);
            searchOutput.Should().MatchRegex(@"1\s+1\.0000\s+.*chelsea\.png");

            var (missingCode, missingOutput) = ProcessRunner.Run(deepretrieval, $"search \"{gallery}\" \"{Path.Combine(photos, "chelsea.png")}\"", work, TimeSpan.FromMinutes(1),
                new Dictionary<string, string> { ["DEEPRETRIEVAL_LIBTORCH"] = photos });
            missingCode.Should().Be(1);
            missingOutput.Trim().Should().StartWith("error: DEEPRETRIEVAL_LIBTORCH=").And.Contain("has no libc10.so").And.NotContain("   at ");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static readonly string LibTorchFolder = typeof(ToolPackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "LibTorchFolder").Value!;

    private static string CopyPhotos(string work)
    {
        string photos = Directory.CreateDirectory(Path.Combine(work, "photos")).FullName;
        foreach (string photo in Photos)
        {
            File.Exists(photo).Should().BeTrue($"test photo {photo} comes from python3-skimage / mate-backgrounds (.ci/run installs them)");
            File.Copy(photo, Path.Combine(photos, Path.GetFileName(photo)));
        }
        return photos;
    }

    private string Install(string tools, string work)
    {
        var (installCode, installOutput) = ProcessRunner.Run("dotnet",
            $"tool install DeepRetrieval.Tool --tool-path \"{tools}\" --add-source \"{packages.Feed}\" --version {packages.Version}", work, TimeSpan.FromMinutes(5));
        installCode.Should().Be(0, installOutput);
        string deepretrieval = Path.Combine(tools, "deepretrieval");
        File.Exists(deepretrieval).Should().BeTrue(installOutput);
        return deepretrieval;
    }

    private static string? Readelf(string path)
    {
        try
        {
            var (code, output) = ProcessRunner.Run("readelf", $"-V \"{path}\"", Path.GetTempPath(), TimeSpan.FromMinutes(1));
            return code == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no readelf
        }
    }

    private static bool SystemLibStdCxxLacksGlibcxx332()
    {
        string library = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        return File.Exists(library) && File.ReadAllBytes(library).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) < 0;
    }
}
