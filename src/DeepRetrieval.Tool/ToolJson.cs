using System.Text.Json;

namespace DeepRetrieval.Tool;

/// <summary>The JSON the commands print: camelCase, indented.</summary>
internal static class ToolJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
