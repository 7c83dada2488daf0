using System.Security.Cryptography;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using SkiaSharp;

namespace DeepRetrieval.Tool.Tests;

/// <summary>
/// Real photos the test folders are made of: scikit-image samples (python3-skimage) and wallpapers of mate-backgrounds and
/// gnome-backgrounds (installed by .ci/run).
/// </summary>
internal static class Photos
{
    public static readonly string[] Paths =
    [
        "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
        "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
        "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
        "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg",
        "/usr/share/backgrounds/mate/nature/LadyBird.jpg",
        "/usr/share/backgrounds/mate/nature/FreshFlower.jpg",
        "/usr/share/backgrounds/mate/nature/GreenMeadow.jpg",
        "/usr/share/backgrounds/mate/nature/Aqua.jpg",
        "/usr/share/backgrounds/gnome/wood-d.webp",
    ];

    public static string Get(int i)
    {
        string path = Paths[i];
        if (!File.Exists(path))
            throw new FileNotFoundException($"Test photo '{path}' is missing: install python3-skimage, mate-backgrounds and gnome-backgrounds (.ci/run does).", path);
        return path;
    }

    /// <summary>A new temporary folder holding copies of the first <paramref name="count"/> photos (keeping their names).</summary>
    public static string Folder(int count)
    {
        string folder = TempFolder("photos");
        for (int i = 0; i < count; i++)
            File.Copy(Get(i), Path.Combine(folder, Path.GetFileName(Paths[i])));
        return folder;
    }

    public static string TempFolder(string what)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"dr-tool-{what}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Writes a transformed copy of a photo as a JPEG (a copy as copy-detection benchmarks make them).</summary>
    public static void WriteJpeg(PixelImage image, string path, int quality = 85)
    {
        PixelImage rgba = image.ConvertTo(PixelFormat.Rgba32);
        var info = new SKImageInfo(rgba.Width, rgba.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        rgba.Pixels.CopyTo(bitmap.GetPixelSpan());
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        File.WriteAllBytes(path, data.ToArray());
    }

    public static PixelImage Decode(string path) => ImageDecoder.Decode(path);

    public static PixelImage HalfSize(PixelImage image) => image.Resize(image.Width / 2, image.Height / 2, ResizeFilter.Bilinear);

    public static PixelImage Brighter(PixelImage image, int amount)
    {
        PixelImage copy = image.Clone();
        Span<byte> pixels = copy.Pixels;
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)Math.Min(255, pixels[i] + amount);
        return copy;
    }
}
