using System.Reflection.PortableExecutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DeepRetrieval.Docs.Tests;

/// <summary>
/// Compiles the C# of one markdown page as one console program, the way a reader would paste the page's blocks into a
/// new <c>dotnet new console</c> app that references every DeepRetrieval package: <c>using</c> directives from all
/// blocks go to the top, the prelude and then each block's statements follow in page order, and type declarations go
/// last. <c>#line</c> directives map every diagnostic back to the markdown file and line.
/// </summary>
internal static class SnippetCompiler
{
    // What `dotnet new console` imports implicitly.
    private static readonly string[] ImplicitUsings =
        ["System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview, DocumentationMode.None);

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    public static IReadOnlyList<Diagnostic> Compile(MarkdownSnippets page)
    {
        // Blocks run together as one program until a block marked "fresh" starts the next one.
        var errors = new List<Diagnostic>();
        var program = new List<Snippet>();
        int number = 0;
        foreach (Snippet block in page.Blocks)
        {
            if (block.StartsProgram && program.Count > 0)
            {
                errors.AddRange(CompileProgram(page, program, number++));
                program.Clear();
            }
            program.Add(block);
        }
        if (program.Count > 0) errors.AddRange(CompileProgram(page, program, number));
        return errors;
    }

    private static IEnumerable<Diagnostic> CompileProgram(MarkdownSnippets page, List<Snippet> blocks, int number)
    {
        var usings = new List<string>();
        var statements = new StringBuilder();
        var types = new StringBuilder();
        if (page.Prelude is { } prelude) Append(prelude, usings, statements, types);
        foreach (Snippet block in blocks) Append(block, usings, statements, types);

        var program = new StringBuilder();
        foreach (string name in ImplicitUsings) program.Append("global using global::").Append(name).Append(";\n");
        foreach (string directive in usings.Distinct(StringComparer.Ordinal)) program.Append(directive).Append('\n');
        program.Append(statements).Append("#line default\n").Append(types);

        SyntaxTree tree = CSharpSyntaxTree.ParseText(program.ToString(), ParseOptions, path: page.File);
        var compilation = CSharpCompilation.Create(
            $"Snippets_{Path.GetFileNameWithoutExtension(page.File).Replace('-', '_')}_{number}",
            [tree],
            References.Value,
            new CSharpCompilationOptions(statements.Length > 0 ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        using var sink = new MemoryStream();
        return compilation.Emit(sink).Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
    }

    private static void Append(Snippet block, List<string> usings, StringBuilder statements, StringBuilder types)
    {
        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(block.Code, ParseOptions).GetRoot();
        var lines = block.Code.Split('\n');
        foreach (UsingDirectiveSyntax directive in root.Usings) usings.Add(directive.ToString().Trim());
        foreach (MemberDeclarationSyntax member in root.Members)
        {
            int line = member.GetLocation().GetLineSpan().StartLinePosition.Line;
            int lastLine = member.GetLocation().GetLineSpan().EndLinePosition.Line;
            StringBuilder target = member is GlobalStatementSyntax ? statements : types;
            // Copy the member's lines verbatim (comments included) under a #line that points at the markdown.
            target.Append("#line ").Append(block.FirstLine + line).Append(" \"").Append(block.File).Append("\"\n");
            for (int i = line; i <= lastLine; i++) target.Append(lines[i]).Append('\n');
        }
    }

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string platform = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        foreach (string path in platform.Split(Path.PathSeparator))
            paths[Path.GetFileName(path)] = path;
        // Our packages and what they bring (TorchSharp, SkiaSharp, ONNX Runtime …), as copied beside this test.
        foreach (string path in Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith("xunit", StringComparison.OrdinalIgnoreCase) || name.StartsWith("DeepRetrieval.Docs.Tests", StringComparison.Ordinal)) continue;
            if (IsManaged(path)) paths.TryAdd(name, path);
        }
        return paths.Values.Where(IsManaged).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    private static bool IsManaged(string path)
    {
        try
        {
            using var reader = new PEReader(File.OpenRead(path));
            return reader.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
