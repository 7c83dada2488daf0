using System.Text.Encodings.Web;
using System.Text.Json;

namespace DeepRetrieval.AnnBench;

/// <summary>Writes the result rows as a JSON array.</summary>
internal static class JsonReport
{
    private static readonly JsonSerializerOptions Settings = new()
    {
        WriteIndented = true,
        // The file is read by scripts, not embedded in HTML: keep names such as "matmul+topk" unescaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(string path, IReadOnlyList<ResultRow> rows)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        using FileStream file = File.Create(path);
        JsonSerializer.Serialize(file, rows, Settings);
    }
}
