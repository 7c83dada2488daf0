using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace DeepRetrieval.Packaging.Tests;

/// <summary>Every package carries what nuget.org shows and what a user needs: metadata, its own README, icon, docs, symbols.</summary>
[Collection(PackedCollection.Name)]
public sealed partial class PackageMetadataTests(PackedPackages packages)
{
    [Fact]
    public void TheRepository_PacksTheCoreTheTorchAndTheImagePackages()
    {
        packages.PackageIds.Should().Contain(["DeepRetrieval", "DeepRetrieval.Torch", "DeepRetrieval.Imaging"]);
    }

    [Fact]
    public void EveryPackage_HasCompleteMetadata_ItsOwnReadmeAndTheIcon()
    {
        foreach (string id in packages.PackageIds)
        {
            XElement metadata = packages.Nuspec(id);
            string Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            Value("id").Should().Be(id);
            Value("description").Length.Should().BeGreaterThan(60, $"{id} needs a real description");
            Value("authors").Should().NotBeEmpty();
            Value("license").Should().Be("MIT");
            Value("tags").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length.Should().BeGreaterThan(3, id);
            Value("projectUrl").Should().StartWith("https://");
            metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("url")!.Value.Should().StartWith("https://");
            Value("icon").Should().Be("icon.png");
            // A .NET tool (PackAsTool) carries its app under tools/ and is installed with `dotnet tool install`, not referenced.
            bool tool = metadata.Descendants().Any(e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "DotnetTool");
            if (tool)
                packages.Entries(id).Should().Contain("icon.png").And.Contain($"tools/net10.0/any/{id}.dll").And.Contain("tools/net10.0/any/DotnetToolSettings.xml");
            else
                packages.Entries(id).Should().Contain("icon.png").And.Contain($"lib/net10.0/{id}.dll").And.Contain($"lib/net10.0/{id}.xml");
            Value("readme").Should().Be("README.md");
            string readme = packages.ReadEntry(id, "README.md")!;
            readme.Should().StartWith($"# {id}\n", "each package has its own README, not the repository's");
            readme.Should().Contain(tool ? $"dotnet tool install --global {id}" : $"dotnet add package {id}");
            readme.Should().Contain(tool ? "```bash" : "```csharp");
            RelativeLink().Matches(readme).Select(m => m.Value).Should().BeEmpty($"links in {id}'s README must be absolute: nuget.org shows it outside the repository");
            File.Exists(Path.Combine(packages.Feed, $"{id}.{packages.Version}.snupkg")).Should().BeTrue($"{id} ships symbols");
        }
    }

    [Fact]
    public void TheCore_DependsOnNoNativeLibrary()
    {
        Dependencies("DeepRetrieval").Should().NotContain(d => d.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase)
            || d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase)
            || d.StartsWith("SkiaSharp", StringComparison.OrdinalIgnoreCase)
            || d.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void TheTorchPackage_DeclaresTorchSharp_ButLeavesTheLibtorchBuildToTheApp()
    {
        string[] dependencies = Dependencies("DeepRetrieval.Torch");
        dependencies.Should().Contain("TorchSharp").And.Contain("DeepRetrieval");
        dependencies.Should().NotContain(d => d.StartsWith("TorchSharp-", StringComparison.Ordinal) || d.StartsWith("libtorch", StringComparison.Ordinal));
        packages.Entries("DeepRetrieval.Torch").Should().Contain("build/DeepRetrieval.Torch.targets").And.Contain("buildTransitive/DeepRetrieval.Torch.targets");
    }

    [Fact]
    public void TheImagePackage_DeclaresSkiaSharpWithItsLinuxNativeAssets()
    {
        Dependencies("DeepRetrieval.Imaging").Should().Contain(["SkiaSharp", "SkiaSharp.NativeAssets.Linux.NoDependencies", "DeepRetrieval"]);
    }

    private string[] Dependencies(string id) =>
        packages.Nuspec(id).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).ToArray();

    // A markdown link whose target is neither absolute nor an anchor.
    [GeneratedRegex(@"\]\((?!https?://|#)[^)]*\)")]
    private static partial Regex RelativeLink();
}
