using System.Runtime.Intrinsics;

namespace DeepRetrieval.Imaging.Processing;

/// <summary>
/// Resizing as PIL's <c>Image.resize</c> does it (pixel for pixel for the PIL filters, including the antialiasing when
/// shrinking), or as OpenCV's bit-exact bilinear does (<see cref="ResizeFilter.LinearExact"/>). RGBA images are resized
/// with premultiplied alpha for the PIL filters, as PIL does; opaque images skip that step.
/// </summary>
public static class Resizing
{
    /// <summary>Resizes to exactly <paramref name="width"/> × <paramref name="height"/>.</summary>
    /// <param name="image">The image.</param>
    /// <param name="width">Output width, at least 1.</param>
    /// <param name="height">Output height, at least 1.</param>
    /// <param name="filter">The resampling filter (PIL's default for <c>resize</c> is <see cref="ResizeFilter.Bicubic"/>,
    /// torchvision's is <see cref="ResizeFilter.Bilinear"/>).</param>
    /// <returns>A new image; a copy when the size is unchanged (as PIL returns a copy).</returns>
    public static PixelImage Resize(this PixelImage image, int width, int height, ResizeFilter filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (filter is < ResizeFilter.Box or > ResizeFilter.LinearExact)
            throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown resize filter.");
        if (width == image.Width && height == image.Height)
            return image.Clone();
        var result = new PixelImage(width, height, image.Format);
        if (filter == ResizeFilter.LinearExact)
        {
            LinearResampler.Resize(image.Pixels, image.Width, image.Height, image.Channels, result.Pixels, width, height);
            return result;
        }
        if (image.Format == PixelFormat.Rgba32 && !IsOpaque(image.Pixels))
        {
            byte[] premultiplied = image.Pixels.ToArray();
            Premultiply(premultiplied);
            PilResampler.Resize(premultiplied, image.Width, image.Height, 4, result.Pixels, width, height, filter);
            Unpremultiply(result.Pixels);
            return result;
        }
        PilResampler.Resize(image.Pixels, image.Width, image.Height, image.Channels, result.Pixels, width, height, filter);
        return result;
    }

    /// <summary>Resizes to the given size.</summary>
    /// <param name="image">The image.</param>
    /// <param name="size">Output size.</param>
    /// <param name="filter">The resampling filter.</param>
    public static PixelImage Resize(this PixelImage image, ImageSize size, ResizeFilter filter) =>
        image.Resize(size.Width, size.Height, filter);

    /// <summary>
    /// Resizes so the shorter side becomes <paramref name="size"/>, keeping the aspect ratio, as torchvision's
    /// <c>Resize(size)</c> with an int does (the longer side is <c>int(size × long / short)</c>, truncated).
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="size">Length of the shorter side, at least 1.</param>
    /// <param name="filter">The resampling filter.</param>
    public static PixelImage ResizeShorterSide(this PixelImage image, int size, ResizeFilter filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Resize(ShorterSideSize(new ImageSize(image.Width, image.Height), size), filter);
    }

    /// <summary>
    /// Resizes to the largest size that fits inside <paramref name="width"/> × <paramref name="height"/> keeping the
    /// aspect ratio, as PIL's <c>ImageOps.contain</c> (the other side is rounded half to even, as Python's round).
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="width">Box width, at least 1.</param>
    /// <param name="height">Box height, at least 1.</param>
    /// <param name="filter">The resampling filter.</param>
    public static PixelImage ResizeToFit(this PixelImage image, int width, int height, ResizeFilter filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Resize(FitSize(new ImageSize(image.Width, image.Height), width, height), filter);
    }

    /// <summary>The size <see cref="ResizeShorterSide"/> produces.</summary>
    /// <param name="source">The input size.</param>
    /// <param name="size">Length of the shorter side, at least 1.</param>
    public static ImageSize ShorterSideSize(ImageSize source, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        CheckSize(source);
        return source.Width <= source.Height
            ? new ImageSize(size, Math.Max(1, (int)((long)size * source.Height / source.Width)))
            : new ImageSize(Math.Max(1, (int)((long)size * source.Width / source.Height)), size);
    }

    /// <summary>The size <see cref="ResizeToFit"/> produces (PIL's <c>ImageOps.contain</c>).</summary>
    /// <param name="source">The input size.</param>
    /// <param name="width">Box width, at least 1.</param>
    /// <param name="height">Box height, at least 1.</param>
    public static ImageSize FitSize(ImageSize source, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        CheckSize(source);
        double imageRatio = (double)source.Width / source.Height, boxRatio = (double)width / height;
        if (imageRatio > boxRatio)
            return new ImageSize(width, Math.Max(1, (int)Math.Round((double)source.Height / source.Width * width, MidpointRounding.ToEven)));
        if (imageRatio < boxRatio)
            return new ImageSize(Math.Max(1, (int)Math.Round((double)source.Width / source.Height * height, MidpointRounding.ToEven)), height);
        return new ImageSize(width, height);
    }

    private static void CheckSize(ImageSize source)
    {
        if (source.Width < 1 || source.Height < 1)
            throw new ArgumentOutOfRangeException(nameof(source), source, "Image sizes are at least 1 × 1.");
    }

    internal static bool IsOpaque(ReadOnlySpan<byte> rgba)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> alpha = Vector256.Create(0xFF000000u);
            for (; i + 32 <= rgba.Length; i += 32)
                if ((Vector256.Create(rgba.Slice(i, 32)).AsUInt32() & alpha) != alpha)
                    return false;
        }
        for (i += 3; i < rgba.Length; i += 4)
            if (rgba[i] != 255)
                return false;
        return true;
    }

    // PIL's RGBA → RGBa: MULDIV255(c, a) = ((c·a + 128) + ((c·a + 128) >> 8)) >> 8.
    private static void Premultiply(Span<byte> rgba)
    {
        for (int i = 0; i < rgba.Length; i += 4)
        {
            int a = rgba[i + 3];
            for (int c = 0; c < 3; c++)
            {
                int t = rgba[i + c] * a + 128;
                rgba[i + c] = (byte)((t + (t >> 8)) >> 8);
            }
        }
    }

    // PIL's RGBa → RGBA: colours unchanged when alpha is 0 or 255, else min(255, 255·c / a) truncated.
    private static void Unpremultiply(Span<byte> rgba)
    {
        for (int i = 0; i < rgba.Length; i += 4)
        {
            int a = rgba[i + 3];
            if (a is 0 or 255)
                continue;
            for (int c = 0; c < 3; c++)
                rgba[i + c] = (byte)Math.Min(255, 255 * rgba[i + c] / a);
        }
    }
}
