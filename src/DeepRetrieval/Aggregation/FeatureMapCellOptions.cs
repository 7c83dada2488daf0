namespace DeepRetrieval.Aggregation;

/// <summary>How <see cref="FeatureMapCells"/> turns a feature map into local descriptors.</summary>
public sealed record FeatureMapCellOptions
{
    /// <summary>
    /// Input pixels per map cell (the layer's output stride, e.g. 32 for a ResNet's last stage), used to place each
    /// cell's position in the input image; positive.
    /// </summary>
    public int Stride { get; init; } = 1;

    /// <summary>
    /// Keep only this many cells, those of largest activation L2 norm (the strength used by DELF- and HOW-style
    /// feature selection); 0 keeps all. Non-negative.
    /// </summary>
    public int MaxCells { get; init; }

    /// <summary>L2-normalise every descriptor (after the strength is measured), as is usual before k-means and VLAD/ASMK.</summary>
    public bool L2Normalize { get; init; } = true;
}
