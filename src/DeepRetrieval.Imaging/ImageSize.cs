namespace DeepRetrieval.Imaging;

/// <summary>A width and a height in pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct ImageSize(int Width, int Height)
{
    /// <summary>Width × height.</summary>
    public long PixelCount => (long)Width * Height;

    /// <inheritdoc/>
    public override string ToString() => $"{Width} × {Height}";
}
