namespace DeepRetrieval.Pooling;

/// <summary>Reduces one channel's H × W plane to a single value.</summary>
/// <param name="plane">The plane's values, row-major.</param>
internal delegate float PlaneReduction(ReadOnlySpan<float> plane);

/// <summary>What the poolings that reduce each channel's plane on its own (MAC, SPoC) share.</summary>
internal static class ChannelPlanes
{
    /// <summary>C for C channels, after checking that C is positive.</summary>
    public static int OneValuePerChannel(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        return channels;
    }

    /// <summary>Writes <paramref name="reduce"/> of every plane of every map into <paramref name="pooled"/>, after the usual checks.</summary>
    public static void Reduce(ReadOnlySpan<float> maps, FeatureMapShape shape, Span<float> pooled, PlaneReduction reduce)
    {
        int count = shape.CheckBatch(maps, pooled, shape.Channels);
        int plane = shape.PlaneLength;
        for (int i = 0; i < count * shape.Channels; i++)
            pooled[i] = reduce(maps.Slice(i * plane, plane));
    }
}
