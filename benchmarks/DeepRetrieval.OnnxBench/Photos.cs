using SkiaSharp;

namespace DeepRetrieval.OnnxBench;

/// <summary>Real photos decoded with SkiaSharp and resized to 224 × 224: interleaved RGBA bytes.</summary>
internal static class Photos
{
    public const int Size = 224;

    public static List<byte[]> Load(string folder, int count)
    {
        string[] files = Directory.GetFiles(folder, "*.jpg").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"No .jpg photos in '{folder}' (install mate-backgrounds, or pass --photos).");
        var decoded = files.Take(count).Select(Decode).ToList();
        return Enumerable.Range(0, count).Select(i => decoded[i % decoded.Count]).ToList();
    }

    private static byte[] Decode(string path)
    {
        using SKCodec codec = SKCodec.Create(path) ?? throw new InvalidDataException($"Cannot decode '{path}'.");
        using SKBitmap bitmap = SKBitmap.Decode(codec, new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using SKBitmap resized = bitmap.Resize(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        var pixels = new byte[Size * Size * 4];
        for (int y = 0; y < Size; y++)
            resized.GetPixelSpan().Slice(y * resized.RowBytes, Size * 4).CopyTo(pixels.AsSpan(y * Size * 4));
        return pixels;
    }
}
