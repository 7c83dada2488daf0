using System.Runtime.Intrinsics;

namespace DeepRetrieval.Imaging.Processing;

/// <summary>
/// Converts between <see cref="PixelFormat"/>s. Grey is PIL's <c>convert("L")</c> exactly: the ITU-R 601-2 luma
/// L = R × 299/1000 + G × 587/1000 + B × 114/1000 in PIL's 16-bit fixed point,
/// <c>(R × 19595 + G × 38470 + B × 7471 + 0x8000) &gt;&gt; 16</c>. Alpha is dropped without blending (PIL's
/// <c>convert("RGB")</c>) and set to 255 when added.
/// </summary>
public static class ColorConversion
{
    /// <summary>Returns the image in another channel order (a copy when it already is in <paramref name="format"/>).</summary>
    /// <param name="image">The image.</param>
    /// <param name="format">The wanted format.</param>
    public static PixelImage ConvertTo(this PixelImage image, PixelFormat format)
    {
        ArgumentNullException.ThrowIfNull(image);
        _ = format.ChannelCount();
        if (image.Format == format)
            return image.Clone();
        var result = new PixelImage(image.Width, image.Height, format);
        Convert(image.Pixels, image.Format, result.Pixels, format);
        return result;
    }

    /// <summary>PIL's integer luma of one RGB pixel.</summary>
    /// <param name="r">Red.</param>
    /// <param name="g">Green.</param>
    /// <param name="b">Blue.</param>
    public static byte Luma(byte r, byte g, byte b) => (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);

    internal static void Convert(ReadOnlySpan<byte> source, PixelFormat from, Span<byte> destination, PixelFormat to)
    {
        int count = source.Length / from.ChannelCount();
        if (from == to)
        {
            source.CopyTo(destination);
            return;
        }
        switch (from, to)
        {
            case (PixelFormat.Rgba32, PixelFormat.Rgb24):
                RgbaToRgb(source, destination, count);
                return;
            case (PixelFormat.Rgba32, PixelFormat.Gray8):
                for (int i = 0; i < count; i++)
                    destination[i] = Luma(source[4 * i], source[4 * i + 1], source[4 * i + 2]);
                return;
            case (PixelFormat.Rgb24, PixelFormat.Gray8):
                for (int i = 0; i < count; i++)
                    destination[i] = Luma(source[3 * i], source[3 * i + 1], source[3 * i + 2]);
                return;
            case (PixelFormat.Bgr24, PixelFormat.Gray8):
                for (int i = 0; i < count; i++)
                    destination[i] = Luma(source[3 * i + 2], source[3 * i + 1], source[3 * i]);
                return;
        }

        // The remaining pairs are plain channel moves, through (r, g, b, a).
        int inStep = from.ChannelCount(), outStep = to.ChannelCount();
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> p = source.Slice(i * inStep, inStep);
            (byte r, byte g, byte b, byte a) = from switch
            {
                PixelFormat.Gray8 => (p[0], p[0], p[0], (byte)255),
                PixelFormat.Rgb24 => (p[0], p[1], p[2], (byte)255),
                PixelFormat.Bgr24 => (p[2], p[1], p[0], (byte)255),
                _ => (p[0], p[1], p[2], p[3]),
            };
            Span<byte> q = destination.Slice(i * outStep, outStep);
            switch (to)
            {
                case PixelFormat.Gray8: q[0] = Luma(r, g, b); break;
                case PixelFormat.Rgb24: q[0] = r; q[1] = g; q[2] = b; break;
                case PixelFormat.Bgr24: q[0] = b; q[1] = g; q[2] = r; break;
                default: q[0] = r; q[1] = g; q[2] = b; q[3] = a; break;
            }
        }
    }

    // Four RGBA pixels (16 bytes) become 12 RGB bytes with one shuffle; the store writes 16 bytes, so the vector loop
    // stops while 4 spare destination bytes remain and the tail is scalar.
    private static void RgbaToRgb(ReadOnlySpan<byte> source, Span<byte> destination, int count)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<byte> pack = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0x80, 0x80, 0x80, 0x80);
            for (; i + 6 <= count; i += 4)
                Vector128.Shuffle(Vector128.Create(source.Slice(i * 4, 16)), pack).CopyTo(destination.Slice(i * 3, 16));
        }
        for (; i < count; i++)
        {
            destination[3 * i] = source[4 * i];
            destination[3 * i + 1] = source[4 * i + 1];
            destination[3 * i + 2] = source[4 * i + 2];
        }
    }
}
