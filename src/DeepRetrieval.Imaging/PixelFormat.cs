namespace DeepRetrieval.Imaging;

/// <summary>
/// Channel order of a <see cref="PixelImage"/>. Every format stores 8 bits per channel, interleaved (height × width ×
/// channels, "HWC"), rows packed without padding.
/// </summary>
public enum PixelFormat
{
    /// <summary>One channel of luma (PIL's mode "L").</summary>
    Gray8 = 1,

    /// <summary>Red, green, blue (PIL's "RGB", torchvision's channel order).</summary>
    Rgb24 = 2,

    /// <summary>Blue, green, red (OpenCV's channel order; Caffe-style and ML.NET ResNet preprocessing).</summary>
    Bgr24 = 3,

    /// <summary>Red, green, blue and straight (unpremultiplied) alpha (PIL's "RGBA"; what SkiaSharp decodes to).</summary>
    Rgba32 = 4,
}

/// <summary>Facts about <see cref="PixelFormat"/> values.</summary>
public static class PixelFormatExtensions
{
    /// <summary>Bytes per pixel: 1, 3 or 4.</summary>
    /// <param name="format">The format.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is not a defined value.</exception>
    public static int ChannelCount(this PixelFormat format) => format switch
    {
        PixelFormat.Gray8 => 1,
        PixelFormat.Rgb24 or PixelFormat.Bgr24 => 3,
        PixelFormat.Rgba32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };
}
