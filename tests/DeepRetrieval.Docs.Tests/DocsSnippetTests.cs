using Microsoft.CodeAnalysis;

namespace DeepRetrieval.Docs.Tests;

/// <summary>Every C# block in README.md, docs/*.md and the package READMEs compiles against the current library.</summary>
public sealed class DocsSnippetTests
{
    private static readonly string Root = FindRepositoryRoot();

    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string>();
        foreach (string page in MarkdownPages()) pages.Add(page);
        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryCSharpBlockOfThePage_Compiles(string page)
    {
        MarkdownSnippets snippets = MarkdownSnippets.Read(Path.Combine(Root, page), page);
        IReadOnlyList<Diagnostic> errors = SnippetCompiler.Compile(snippets);
        string.Join("\n", errors.Select(Describe)).Should().BeEmpty($"every C# block of {page} must compile against the library");
    }

    [Fact]
    public void ThePagesIncludeTheReadmeAndTheGuides()
    {
        string[] pages = MarkdownPages().ToArray();
        pages.Should().Contain("README.md").And.Contain("docs/getting-started.md");
        pages.Count(p => p.StartsWith("docs/", StringComparison.Ordinal)).Should().BeGreaterThan(10);
    }

    [Fact]
    public void ABrokenSnippet_IsReportedAtItsMarkdownLine()
    {
        string file = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.md");
        File.WriteAllText(file, "# Page\n\nText.\n\n```csharp\nusing DeepRetrieval.Indexes;\n\nvar index = new FlatIndex(4);\nindex.NoSuchMethod();\n```\n");
        try
        {
            var errors = SnippetCompiler.Compile(MarkdownSnippets.Read(file, "broken.md"));
            errors.Should().ContainSingle();
            Describe(errors[0]).Should().StartWith("broken.md:9:").And.Contain("NoSuchMethod");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ThePrelude_DeclaresWhatThePageAssumes_AndSkipCompileBlocksAreLeftOut()
    {
        string file = Path.Combine(Path.GetTempPath(), $"prelude-{Guid.NewGuid():N}.md");
        File.WriteAllText(file, "<!-- snippet-prelude\nfloat[] vectors = new float[8];\n-->\n```csharp\nusing DeepRetrieval.Indexes;\nvar index = new FlatIndex(4);\nindex.Add(vectors);\n```\n\n```csharp skip-compile\nthis is not C#\n```\n");
        try
        {
            SnippetCompiler.Compile(MarkdownSnippets.Read(file, "prelude.md")).Should().BeEmpty();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AFreshBlock_StartsANewProgram_SoItMayReuseNames()
    {
        string file = Path.Combine(Path.GetTempPath(), $"fresh-{Guid.NewGuid():N}.md");
        const string Block = "using DeepRetrieval.Indexes;\nvar index = new FlatIndex(4);\n";
        File.WriteAllText(file, $"```csharp\n{Block}```\n\n```csharp fresh\n{Block}```\n\n```csharp\nindex.Add(new float[4]);\n```\n");
        try
        {
            SnippetCompiler.Compile(MarkdownSnippets.Read(file, "fresh.md")).Should().BeEmpty();
            File.WriteAllText(file, $"```csharp\n{Block}```\n\n```csharp\n{Block}```\n");
            SnippetCompiler.Compile(MarkdownSnippets.Read(file, "fresh.md")).Should().ContainSingle().Which.Id.Should().Be("CS0128");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static IEnumerable<string> MarkdownPages()
    {
        yield return "README.md";
        foreach (string path in Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal))
            yield return "docs/" + Path.GetFileName(path);
        foreach (string path in Directory.EnumerateFiles(Path.Combine(Root, "src"), "README.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            yield return Path.GetRelativePath(Root, path).Replace('\\', '/');
    }

    private static string Describe(Diagnostic d)
    {
        FileLinePositionSpan span = d.Location.GetMappedLineSpan();
        return $"{span.Path}:{span.StartLinePosition.Line + 1}: {d.Id} {d.GetMessage()}";
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DeepRetrieval.sln"))) return dir.FullName;
        throw new InvalidOperationException("DeepRetrieval.sln not found above " + AppContext.BaseDirectory);
    }
}
