namespace DeepRetrieval.Datasets;

/// <summary>
/// An 8-bit image held in memory: <see cref="Height"/> rows of <see cref="Width"/> pixels of <see cref="Channels"/>
/// interleaved values (grey, or R, G, B), row-major — the layout image libraries decode to.
/// </summary>
public sealed record RawImage
{
    /// <summary>Wraps pixel data (not copied).</summary>
    /// <param name="width">Pixels per row; positive.</param>
    /// <param name="height">Rows; positive.</param>
    /// <param name="channels">Values per pixel: 1 (grey) or 3 (RGB).</param>
    /// <param name="pixels">height × width × channels bytes.</param>
    /// <exception cref="ArgumentException">The sizes do not match.</exception>
    public RawImage(int width, int height, int channels, ReadOnlyMemory<byte> pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 or 3.");
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"pixels holds {pixels.Length} bytes; a {width}×{height}×{channels} image needs {(long)width * height * channels}.", nameof(pixels));
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Pixels per row.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Values per pixel (1 grey, 3 RGB).</summary>
    public int Channels { get; }

    /// <summary>The pixels, row-major, channels interleaved.</summary>
    public ReadOnlyMemory<byte> Pixels { get; }
}
