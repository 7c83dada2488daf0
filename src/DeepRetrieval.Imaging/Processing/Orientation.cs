using System.Runtime.InteropServices;

namespace DeepRetrieval.Imaging.Processing;

/// <summary>Turns and mirrors images: EXIF orientation, flips and quarter turns (lossless pixel moves).</summary>
public static class Orientation
{
    /// <summary>Turns the image upright as an EXIF orientation tag says (PIL's <c>ImageOps.exif_transpose</c>).</summary>
    /// <param name="image">The stored pixels.</param>
    /// <param name="orientation">The tag value.</param>
    /// <returns>A new image (a copy for <see cref="ImageOrientation.TopLeft"/>).</returns>
    public static PixelImage ApplyOrientation(this PixelImage image, ImageOrientation orientation)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (orientation is < ImageOrientation.TopLeft or > ImageOrientation.LeftBottom)
            throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientations are 1 to 8.");
        bool swap = orientation >= ImageOrientation.LeftTop;
        var result = new PixelImage(swap ? image.Height : image.Width, swap ? image.Width : image.Height, image.Format);
        Move(image.Pixels, image.Width, image.Height, image.Channels, result.Pixels, orientation);
        return result;
    }

    /// <summary>Mirrors left to right (PIL's <c>FLIP_LEFT_RIGHT</c>).</summary>
    /// <param name="image">The image.</param>
    public static PixelImage FlipHorizontal(this PixelImage image) => image.ApplyOrientation(ImageOrientation.TopRight);

    /// <summary>Mirrors top to bottom (PIL's <c>FLIP_TOP_BOTTOM</c>).</summary>
    /// <param name="image">The image.</param>
    public static PixelImage FlipVertical(this PixelImage image) => image.ApplyOrientation(ImageOrientation.BottomLeft);

    /// <summary>Turns by a multiple of 90° counter-clockwise, as PIL's <c>rotate(angle, expand=True)</c> for those angles.</summary>
    /// <param name="image">The image.</param>
    /// <param name="quarterTurns">Number of 90° counter-clockwise turns; negative turns clockwise.</param>
    public static PixelImage RotateCounterClockwise(this PixelImage image, int quarterTurns) => (((quarterTurns % 4) + 4) % 4) switch
    {
        0 => image.Clone(),
        1 => image.ApplyOrientation(ImageOrientation.LeftBottom),
        2 => image.ApplyOrientation(ImageOrientation.BottomRight),
        _ => image.ApplyOrientation(ImageOrientation.RightTop),
    };

    internal readonly ref struct Upright(ReadOnlySpan<byte> pixels, int width, int height)
    {
        public ReadOnlySpan<byte> Pixels { get; } = pixels;

        public int Width { get; } = width;

        public int Height { get; } = height;
    }

    // Decoder path: RGBA pixels turned into a new array only when the tag asks for it.
    internal static Upright Apply(ReadOnlySpan<byte> rgba, int width, int height, ImageOrientation orientation)
    {
        if (orientation == ImageOrientation.TopLeft)
            return new Upright(rgba, width, height);
        bool swap = orientation >= ImageOrientation.LeftTop;
        var result = new byte[rgba.Length];
        Move(rgba, width, height, 4, result, orientation);
        return swap ? new Upright(result, height, width) : new Upright(result, width, height);
    }

    private static void Move(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination, ImageOrientation orientation)
    {
        switch (channels)
        {
            case 1: Move(source, width, height, destination, orientation); break;
            case 3: Move(MemoryMarshal.Cast<byte, Rgb>(source), width, height, MemoryMarshal.Cast<byte, Rgb>(destination), orientation); break;
            default: Move(MemoryMarshal.Cast<byte, uint>(source), width, height, MemoryMarshal.Cast<byte, uint>(destination), orientation); break;
        }
    }

    // Destination pixel (x, y) comes from source pixel (sx, sy); the mapping per tag follows PIL's exif_transpose
    // (2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90).
    private static void Move<T>(ReadOnlySpan<T> source, int width, int height, Span<T> destination, ImageOrientation orientation)
        where T : unmanaged
    {
        bool swap = orientation >= ImageOrientation.LeftTop;
        int outWidth = swap ? height : width, outHeight = swap ? width : height;
        for (int y = 0; y < outHeight; y++)
        {
            Span<T> row = destination.Slice(y * outWidth, outWidth);
            switch (orientation)
            {
                case ImageOrientation.TopLeft: source.Slice(y * width, width).CopyTo(row); break;
                case ImageOrientation.TopRight: source.Slice(y * width, width).CopyTo(row); row.Reverse(); break;
                case ImageOrientation.BottomRight: source.Slice((height - 1 - y) * width, width).CopyTo(row); row.Reverse(); break;
                case ImageOrientation.BottomLeft: source.Slice((height - 1 - y) * width, width).CopyTo(row); break;
                case ImageOrientation.LeftTop: for (int x = 0; x < outWidth; x++) row[x] = source[x * width + y]; break;
                case ImageOrientation.RightTop: for (int x = 0; x < outWidth; x++) row[x] = source[(height - 1 - x) * width + y]; break;
                case ImageOrientation.RightBottom: for (int x = 0; x < outWidth; x++) row[x] = source[(height - 1 - x) * width + (width - 1 - y)]; break;
                default: for (int x = 0; x < outWidth; x++) row[x] = source[x * width + (width - 1 - y)]; break;
            }
        }
    }

    [StructLayout(LayoutKind.Sequential, Size = 3)]
    private struct Rgb
    {
        public byte R, G, B;
    }
}
