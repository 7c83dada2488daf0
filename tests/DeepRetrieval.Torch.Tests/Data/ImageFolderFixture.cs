using SkiaSharp;

namespace DeepRetrieval.Torch.Tests.Data;

/// <summary>
/// A temporary image folder: classes Zebra, bird, cat (ordinal order puts the capital first) with solid-colour PNGs and JPEGs,
/// an image in a nested folder, a truncated PNG, a garbage ".png", an empty ".jpg" and a text file.
/// </summary>
public sealed class ImageFolderFixture : IDisposable
{
    public static readonly SKColor Red = new(200, 10, 30);
    public static readonly SKColor Green = new(10, 200, 30);
    public static readonly SKColor Blue = new(20, 40, 220);

    public ImageFolderFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "dr-imagefolder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Root, "bird"));
        Directory.CreateDirectory(Path.Combine(Root, "cat", "sub"));
        Directory.CreateDirectory(Path.Combine(Root, "Zebra"));

        File.WriteAllBytes(Path.Combine(Root, "bird", "a.png"), Encode(Solid(8, 6, Red), SKEncodedImageFormat.Png));
        File.WriteAllBytes(Path.Combine(Root, "bird", "b.JPG"), Encode(Solid(10, 10, new SKColor(128, 128, 128)), SKEncodedImageFormat.Jpeg));
        byte[] png = Encode(Gradient(16, 16), SKEncodedImageFormat.Png);
        File.WriteAllBytes(Path.Combine(Root, "bird", "c_truncated.png"), png[..(png.Length / 2)]);
        File.WriteAllText(Path.Combine(Root, "bird", "notes.txt"), "not an image");
        File.WriteAllBytes(Path.Combine(Root, "cat", "a.png"), Encode(Solid(8, 6, Green), SKEncodedImageFormat.Png));
        File.WriteAllBytes(Path.Combine(Root, "cat", "empty.jpg"), []);
        File.WriteAllBytes(Path.Combine(Root, "cat", "sub", "nested.png"), Encode(Gradient(12, 9), SKEncodedImageFormat.Png));
        var garbage = new byte[300];
        new Random(5).NextBytes(garbage);
        File.WriteAllBytes(Path.Combine(Root, "Zebra", "garbage.png"), garbage);
        File.WriteAllBytes(Path.Combine(Root, "Zebra", "z.png"), Encode(Solid(6, 8, Blue), SKEncodedImageFormat.Png));
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static SKBitmap Solid(int width, int height, SKColor color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color);
        return bitmap;
    }

    public static SKBitmap Gradient(int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 15), (byte)(y * 20), (byte)((x + y) * 7)));
        return bitmap;
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format)
    {
        using (bitmap)
        using (SKData data = bitmap.Encode(format, 100))
            return data.ToArray();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
