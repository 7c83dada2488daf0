using SkiaSharp;

namespace DeepRetrieval.Imaging.Visualization;

/// <summary>Shared pieces of the figures: fonts that degrade to no text, PNG output written atomically.</summary>
internal static class Drawing
{
    // Debian's fonts-dejavu-core; without any font installed the typeface has no glyphs and text is left out.
    private static readonly Lazy<SKTypeface?> Face = new(() =>
    {
        SKTypeface? face = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        if (face is null)
            return null;
        using var font = new SKFont(face, 12);
        return font.ContainsGlyphs("Ag") ? face : null;
    });

    /// <summary>False on a machine without fonts: figures are drawn without their text.</summary>
    public static bool HasFont => !SimulateNoFont && Face.Value is not null;

    /// <summary>Tests set this to draw as on a machine without any font.</summary>
    internal static bool SimulateNoFont { get; set; }

    public static SKFont Font(float size) => HasFont && Face.Value is { } face ? new SKFont(face, size) : new SKFont { Size = size };

    public static void Text(SKCanvas canvas, string text, float x, float y, SKTextAlign align, SKFont font, SKPaint paint)
    {
        if (HasFont && !string.IsNullOrEmpty(text))
            canvas.DrawText(text, x, y, align, font, paint);
    }

    public static float Measure(string text, SKFont font) => HasFont ? font.MeasureText(text) : 0f;

    public static void VerticalText(SKCanvas canvas, string text, float x, float y, SKFont font, SKPaint paint)
    {
        canvas.Save();
        canvas.RotateDegrees(-90, x, y);
        Text(canvas, text, x, y, SKTextAlign.Center, font, paint);
        canvas.Restore();
    }

    public static PixelImage ToPixelImage(SKSurface surface, int width, int height)
    {
        var image = new PixelImage(width, height, PixelFormat.Rgba32);
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        unsafe
        {
            fixed (byte* pixels = image.Pixels)
                if (!surface.ReadPixels(info, (IntPtr)pixels, width * 4, 0, 0))
                    throw new InvalidOperationException("SkiaSharp could not read the rendered pixels back.");
        }
        return image;
    }

    public static SKImage ToSkImage(PixelImage image)
    {
        PixelImage rgba = image.Format == PixelFormat.Rgba32 ? image : Processing.ColorConversion.ConvertTo(image, PixelFormat.Rgba32);
        var info = new SKImageInfo(rgba.Width, rgba.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var data = SKData.CreateCopy(rgba.Pixels);
        return SKImage.FromPixels(info, data, rgba.Width * 4)
            ?? throw new InvalidOperationException("SkiaSharp could not wrap the image pixels.");
    }

    public static void WritePng(SKSurface surface, Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using SKImage snapshot = surface.Snapshot();
        using SKData png = snapshot.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the figure as PNG.");
        png.SaveTo(output);
    }

    /// <summary>Writes through <see cref="AtomicFile"/> (a temporary sibling renamed into place), so a failed write leaves no half-written PNG.</summary>
    public static void SavePng(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        AtomicFile.Write(path, write);
    }

    /// <summary>matplotlib's / ScottPlot's Category10 palette.</summary>
    public static SKColor Palette(int index) => Category10[index % Category10.Length];

    private static readonly SKColor[] Category10 =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189),
        new(140, 86, 75), new(227, 119, 194), new(127, 127, 127), new(188, 189, 34), new(23, 190, 207),
    ];
}
