using SkiaSharp;

namespace DeepRetrieval.OnnxRuntime.Tests;

/// <summary>A photo decoded with SkiaSharp, optionally centre-cropped, and resized to a square: RGBA bytes, rows packed.</summary>
internal static class PhotoPixels
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, int, double), byte[]> Cache = new();

    /// <summary>The test photos (<see cref="TestFiles.Photos"/>) at size × size, decoded once per process.</summary>
    public static IReadOnlyList<byte[]> TestPhotos(int size, double cropFraction = 1.0) =>
        TestFiles.Photos.Select(path => Cache.GetOrAdd((path, size, cropFraction), key => Load(key.Item1, key.Item2, key.Item3))).ToArray();

    /// <summary>Decodes <paramref name="path"/>, keeps the central <paramref name="cropFraction"/> of each side and resizes to size × size.</summary>
    public static byte[] Load(string path, int size, double cropFraction = 1.0)
    {
        using SKCodec codec = SKCodec.Create(path) ?? throw new InvalidDataException($"SkiaSharp cannot decode '{path}'.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using SKBitmap decoded = SKBitmap.Decode(codec, info) ?? throw new InvalidDataException($"SkiaSharp cannot decode '{path}'.");
        int cropWidth = (int)(decoded.Width * cropFraction), cropHeight = (int)(decoded.Height * cropFraction);
        using var cropped = new SKBitmap();
        decoded.ExtractSubset(cropped, SKRectI.Create((decoded.Width - cropWidth) / 2, (decoded.Height - cropHeight) / 2, cropWidth, cropHeight))
            .Should().BeTrue();
        var target = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using SKBitmap resized = cropped.Resize(target, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new InvalidOperationException($"Resizing '{path}' failed.");
        var pixels = new byte[size * size * 4];
        ReadOnlySpan<byte> source = resized.GetPixelSpan();
        for (int y = 0; y < size; y++)
            source.Slice(y * resized.RowBytes, size * 4).CopyTo(pixels.AsSpan(y * size * 4));
        return pixels;
    }
}
