using System.Text;

namespace DeepRetrieval.Samples.CopyDetection.Copies;

/// <summary>
/// FNV-1a over UTF-8: a hash that is the same in every process (<see cref="HashCode"/> is randomised per process), for
/// per-copy seeds and cache folder names.
/// </summary>
internal static class StableHash
{
    public static uint Of(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619;
        }
        return hash;
    }

    /// <summary>A non-negative seed for <see cref="Random"/> from the parts that define one random draw.</summary>
    public static int Seed(params string[] parts) => (int)(Of(string.Join('\u001f', parts)) & int.MaxValue);
}
