using System.Collections.Concurrent;

namespace DeepRetrieval.Imaging.Tests;

/// <summary>Decoded test photos, decoded once per test run.</summary>
internal static class Photos
{
    private static readonly ConcurrentDictionary<(string, PixelFormat), Lazy<PixelImage>> Cache = new();

    public static PixelImage Get(string name, PixelFormat format = PixelFormat.Rgb24) =>
        Cache.GetOrAdd((name, format), key => new Lazy<PixelImage>(() =>
            ImageDecoder.Decode(Reference.Photo(key.Item1).Path, new ImageDecodeOptions { Format = key.Item2 }))).Value;
}
