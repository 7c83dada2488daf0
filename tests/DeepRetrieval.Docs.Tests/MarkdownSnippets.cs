namespace DeepRetrieval.Docs.Tests;

/// <summary>A fenced C# block of a markdown page, with the line its code starts on.</summary>
internal sealed record Snippet(string File, int FirstLine, string Code, bool StartsProgram = false);

/// <summary>
/// The C# a markdown page shows: its <c>```csharp</c> blocks in order, and an optional hidden prelude in an HTML comment
/// (<c>&lt;!-- snippet-prelude … --&gt;</c>) that declares what the page's prose assumes (say, <c>float[] queries</c>).
/// A block fenced as <c>```csharp skip-compile</c> still renders as C# but is not compiled: for code that needs a package
/// this repository cannot reference (a PostgreSQL connector, say); the page must say so in its prose. A block fenced as
/// <c>```csharp fresh</c> starts a new program (the prelude again, then this block and the ones after it), for pages whose
/// examples stand on their own and reuse names.
/// </summary>
internal sealed class MarkdownSnippets
{
    private const string PreludeStart = "<!-- snippet-prelude";

    private MarkdownSnippets(string file, List<Snippet> blocks, Snippet? prelude)
    {
        File = file;
        Blocks = blocks;
        Prelude = prelude;
    }

    public string File { get; }

    public IReadOnlyList<Snippet> Blocks { get; }

    public Snippet? Prelude { get; }

    public static MarkdownSnippets Read(string path, string displayName)
    {
        string[] lines = System.IO.File.ReadAllLines(path);
        var blocks = new List<Snippet>();
        Snippet? prelude = null;
        for (int i = 0; i < lines.Length; i++)
        {
            string trimmed = lines[i].TrimStart();
            if (trimmed.StartsWith(PreludeStart, StringComparison.Ordinal))
            {
                int end = FindLine(lines, i + 1, l => l.TrimStart().StartsWith("-->", StringComparison.Ordinal), displayName, "snippet prelude", i);
                if (prelude is not null)
                    throw new InvalidDataException($"{displayName}:{i + 1}: a page has at most one snippet prelude.");
                prelude = new Snippet(displayName, i + 2, string.Join('\n', lines[(i + 1)..end]));
                i = end;
                continue;
            }
            if (!trimmed.StartsWith("```", StringComparison.Ordinal)) continue;
            string info = trimmed[3..].Trim();
            int indent = lines[i].Length - trimmed.Length;
            int close = FindLine(lines, i + 1, l => l.Trim() == "```", displayName, "code block", i);
            string[] words = info.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            bool csharp = words.Length > 0 && words[0] is "csharp" or "cs" or "c#";
            if (csharp && !words.Contains("skip-compile"))
            {
                var code = lines[(i + 1)..close].Select(l => l.Length >= indent && string.IsNullOrWhiteSpace(l[..indent]) ? l[indent..] : l.TrimStart());
                blocks.Add(new Snippet(displayName, i + 2, string.Join('\n', code), words.Contains("fresh")));
            }
            i = close;
        }
        return new MarkdownSnippets(displayName, blocks, prelude);
    }

    private static int FindLine(string[] lines, int from, Func<string, bool> match, string file, string what, int opened)
    {
        for (int j = from; j < lines.Length; j++)
            if (match(lines[j])) return j;
        throw new InvalidDataException($"{file}:{opened + 1}: the {what} opened here is never closed.");
    }
}
