using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using SkiaSharp;

namespace DeepRetrieval.Samples.CopyDetection.Copies;

/// <summary>Moves pixels between the image package's <see cref="PixelImage"/> and SkiaSharp, which draws the edits and encodes JPEGs.</summary>
internal static class SkiaInterop
{
    /// <summary>An opaque RGBA bitmap with the image's pixels.</summary>
    public static SKBitmap ToBitmap(PixelImage image)
    {
        PixelImage rgba = image.Format == PixelFormat.Rgba32 ? image : image.ConvertTo(PixelFormat.Rgba32);
        var bitmap = new SKBitmap(new SKImageInfo(rgba.Width, rgba.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        rgba.Pixels.CopyTo(bitmap.GetPixelSpan());
        return bitmap;
    }

    /// <summary>The bitmap's pixels as RGB.</summary>
    public static PixelImage ToImage(SKBitmap bitmap)
    {
        using SKBitmap rgba = bitmap.ColorType == SKColorType.Rgba8888 ? bitmap.Copy() : bitmap.Copy(SKColorType.Rgba8888);
        var image = new PixelImage(rgba.Width, rgba.Height, PixelFormat.Rgba32);
        rgba.GetPixelSpan().CopyTo(image.Pixels);
        return image.ConvertTo(PixelFormat.Rgb24);
    }

    /// <summary>Draws on a copy of the image and returns the result.</summary>
    public static PixelImage Draw(PixelImage image, Action<SKCanvas, SKBitmap> draw)
    {
        using SKBitmap source = ToBitmap(image);
        using var target = new SKBitmap(source.Info);
        using (var canvas = new SKCanvas(target))
        {
            canvas.Clear(SKColors.Black);
            draw(canvas, source);
        }
        return ToImage(target);
    }

    /// <summary>Encodes the image as a baseline JPEG of the given quality (libjpeg-turbo inside SkiaSharp).</summary>
    public static byte[] EncodeJpeg(PixelImage image, int quality)
    {
        using SKBitmap bitmap = ToBitmap(image);
        using SKImage skImage = SKImage.FromBitmap(bitmap);
        using SKData data = skImage.Encode(SKEncodedImageFormat.Jpeg, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image.Width} × {image.Height} JPEG.");
        return data.ToArray();
    }

    /// <summary>A typeface for overlay text: DejaVu Sans (fonts-dejavu-core) when installed, else SkiaSharp's default.</summary>
    public static SKTypeface OverlayTypeface { get; } = SKTypeface.FromFamilyName("DejaVu Sans", SKFontStyle.Bold) ?? SKTypeface.Default;
}
