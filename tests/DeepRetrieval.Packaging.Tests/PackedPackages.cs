using System.IO.Compression;
using System.Xml.Linq;

namespace DeepRetrieval.Packaging.Tests;

/// <summary>
/// Packs every packable project of the repository once per test run, from its Release build, into a folder feed, with
/// a version of its own (0.1.0-pack.&lt;run&gt;) so the NuGet cache never serves a stale copy; the cached copies are
/// removed when the run ends.
/// </summary>
public sealed class PackedPackages : IDisposable
{
    public PackedPackages()
    {
        Root = FindRepositoryRoot();
        Version = $"0.1.0-pack.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        Feed = Directory.CreateTempSubdirectory("deepretrieval-feed-").FullName;
        Projects = Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(p => File.ReadAllText(p).Contains("<IsPackable>true</IsPackable>", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();
        RequireBuiltBeforeTheTests(Root, Projects);
        foreach (string project in Projects)
        {
            var (code, output) = ProcessRunner.Run("dotnet", $"pack \"{project}\" -c Release --no-build -p:Version={Version} -o \"{Feed}\"",
                Root, TimeSpan.FromMinutes(5));
            if (code != 0) throw new InvalidOperationException($"dotnet pack {project} failed:\n{output}");
        }
    }

    public string Root { get; }

    public string Version { get; }

    public string Feed { get; }

    public IReadOnlyList<string> Projects { get; }

    public IEnumerable<string> PackageIds => Projects.Select(p => Path.GetFileNameWithoutExtension(p));

    public string PackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    public XElement Nuspec(string id)
    {
        using ZipArchive zip = ZipFile.OpenRead(PackagePath(id));
        ZipArchiveEntry entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream stream = entry.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    public string? ReadEntry(string id, string path)
    {
        using ZipArchive zip = ZipFile.OpenRead(PackagePath(id));
        ZipArchiveEntry? entry = zip.GetEntry(path);
        if (entry is null) return null;
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    public IReadOnlyList<string> Entries(string id)
    {
        using ZipArchive zip = ZipFile.OpenRead(PackagePath(id));
        return zip.Entries.Select(e => e.FullName).ToList();
    }

    public void Dispose()
    {
        Directory.Delete(Feed, recursive: true);
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in PackageIds)
        {
            string folder = Path.Combine(cache, id.ToLowerInvariant(), Version);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The projects are packed with --no-build, so each must be a (non-referencing) project reference of this test
    /// project: dotnet test builds and runs test projects in parallel, and an unlisted project may not be built yet.
    /// </summary>
    private static void RequireBuiltBeforeTheTests(string root, IEnumerable<string> projects)
    {
        string testProject = Path.Combine(root, "tests", "DeepRetrieval.Packaging.Tests", "DeepRetrieval.Packaging.Tests.csproj");
        var referenced = XDocument.Load(testProject).Descendants("ProjectReference")
            .Select(r => Path.GetFileName((string)r.Attribute("Include")!))
            .ToHashSet(StringComparer.Ordinal);
        string[] missing = projects.Select(Path.GetFileName).Where(p => !referenced.Contains(p!)).ToArray()!;
        if (missing.Length > 0)
            throw new InvalidOperationException(
                $"{testProject} must reference every packable project so it is built before these tests run; missing: {string.Join(", ", missing)}");
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DeepRetrieval.sln"))) return dir.FullName;
        throw new InvalidOperationException("DeepRetrieval.sln not found above " + AppContext.BaseDirectory);
    }
}
