using System.Runtime.CompilerServices;
using System.Text.Json;

namespace DeepRetrieval.Tests;

/// <summary>
/// Reads a fixture from the <c>Reference</c> folder next to the calling test's source file, where the script that
/// generated it lives too.
/// </summary>
internal static class ReferenceFixture
{
    public static string PathOf(string name, [CallerFilePath] string sourceFile = "") =>
        Path.Combine(Path.GetDirectoryName(sourceFile)!, "Reference", name);

    public static JsonElement ReadJson(string name, [CallerFilePath] string sourceFile = "")
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(PathOf(name, sourceFile)));
        return document.RootElement.Clone();
    }

    public static float[] Floats(this JsonElement element) => element.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    public static double[] Doubles(this JsonElement element) => element.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static long[] Longs(this JsonElement element) => element.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public static int[] Ints(this JsonElement element) => element.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
