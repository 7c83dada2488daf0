namespace DeepRetrieval.Imaging;

/// <summary>
/// Decoded 8-bit pixels with their size and channel order: the image type that decoding, resizing, hashing, local
/// features and the embedders (Torch, ONNX Runtime) share. Pixels are interleaved row-major (height × width × channels,
/// "HWC"), rows packed without padding, so <c>Pixels[(y * Width + x) * Channels + c]</c> is channel <c>c</c> of pixel
/// (x, y), with (0, 0) the top-left corner. The type owns its buffer; operations return new images.
/// </summary>
public sealed class PixelImage
{
    private readonly byte[] _pixels;
    private readonly int _length;

    /// <summary>Creates a black (all-zero) image.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="format">Channel order.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the format is unknown, or the image would
    /// exceed <see cref="Array.MaxLength"/> bytes.</exception>
    public PixelImage(int width, int height, PixelFormat format)
    {
        int length = CheckedLength(width, height, format);
        Width = width;
        Height = height;
        Format = format;
        _pixels = new byte[length];
        _length = length;
    }

    /// <summary>Wraps an existing buffer (not copied) of exactly width × height × channels bytes.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="format">Channel order of <paramref name="pixels"/>.</param>
    /// <param name="pixels">Interleaved pixels, rows packed; the image uses this array from now on.</param>
    /// <exception cref="ArgumentException">The buffer length does not match the size and format.</exception>
    public PixelImage(int width, int height, PixelFormat format, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        int length = CheckedLength(width, height, format);
        if (pixels.Length != length)
            throw new ArgumentException(
                $"A {width} × {height} {format} image needs {length} bytes; the buffer holds {pixels.Length}.", nameof(pixels));
        Width = width;
        Height = height;
        Format = format;
        _pixels = pixels;
        _length = length;
    }

    // Over a rented buffer that may be longer than the image (the decoder's transient images).
    internal PixelImage(int width, int height, PixelFormat format, byte[] buffer, int length)
    {
        Width = width;
        Height = height;
        Format = format;
        _pixels = buffer;
        _length = length;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Channel order.</summary>
    public PixelFormat Format { get; }

    /// <summary>Bytes per pixel (1, 3 or 4).</summary>
    public int Channels => Format.ChannelCount();

    /// <summary>Bytes per row: <see cref="Width"/> × <see cref="Channels"/>.</summary>
    public int Stride => Width * Channels;

    /// <summary>All pixels, interleaved, row after row.</summary>
    public Span<byte> Pixels => _pixels.AsSpan(0, _length);

    /// <summary>All pixels as memory, for APIs that keep a reference (pinning, async copies).</summary>
    public Memory<byte> Memory => _pixels.AsMemory(0, _length);

    /// <summary>One row of pixels.</summary>
    /// <param name="y">Row index, 0 at the top.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="y"/> is outside the image.</exception>
    public Span<byte> GetRow(int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        return _pixels.AsSpan(y * Stride, Stride);
    }

    /// <summary>A deep copy.</summary>
    public PixelImage Clone() => new(Width, Height, Format, Pixels.ToArray());

    /// <inheritdoc/>
    public override string ToString() => $"{Width} × {Height} {Format}";

    private static int CheckedLength(int width, int height, PixelFormat format)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        long length = (long)width * height * format.ChannelCount();
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(width),
                $"A {width} × {height} {format} image needs {length} bytes, more than one .NET array holds.");
        return (int)length;
    }
}
