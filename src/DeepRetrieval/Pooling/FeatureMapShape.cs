namespace DeepRetrieval.Pooling;

/// <summary>
/// The shape of one image's convolutional feature map, C × H × W, stored channel-major (each channel's H × W plane row-major,
/// planes one after another), the layout of one item of an NCHW tensor.
/// </summary>
/// <param name="Channels">C, the number of channels; also the length of a pooled descriptor.</param>
/// <param name="Height">H, rows per plane.</param>
/// <param name="Width">W, columns per plane.</param>
public readonly record struct FeatureMapShape(int Channels, int Height, int Width)
{
    /// <summary>Values in one plane, H · W.</summary>
    public int PlaneLength => Height * Width;

    /// <summary>Values in one map, C · H · W.</summary>
    public int Length => Channels * Height * Width;

    /// <inheritdoc />
    public override string ToString() => $"{Channels} × {Height} × {Width}";

    /// <summary>
    /// Checks a batch of maps and its descriptor output: every size positive, the maps whole C × H × W items and the output one
    /// row of <paramref name="outputDimension"/> values per item. Returns the number of items.
    /// </summary>
    internal int CheckBatch(ReadOnlySpan<float> maps, Span<float> pooled, int outputDimension)
    {
        if (Channels <= 0 || Height <= 0 || Width <= 0)
            throw new ArgumentException($"Feature maps need at least one channel and one location; got shape {this}.", "shape");
        if ((long)Channels * Height * Width > Array.MaxLength)
            throw new ArgumentException($"A feature map of shape {this} is larger than an array can hold.", "shape");
        int length = Length;
        if (maps.Length % length != 0)
            throw new ArgumentException($"The maps must be whole items of {this} = {length} values; got {maps.Length} values.", nameof(maps));
        int count = maps.Length / length;
        if (pooled.Length != (long)count * outputDimension)
            throw new ArgumentException($"The output must hold {count} descriptors of {outputDimension} values ({(long)count * outputDimension}); got {pooled.Length}.", nameof(pooled));
        return count;
    }
}
