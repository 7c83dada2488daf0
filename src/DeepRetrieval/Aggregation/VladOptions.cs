namespace DeepRetrieval.Aggregation;

/// <summary>
/// Normalisations of <see cref="VladEncoder"/>, applied in this order: signed power, intra-normalisation, L2; then the
/// optional projection, then L2 again. The defaults are Jégou et al.'s VLAD with signed square root (SSR) and L2
/// ("Aggregating local image descriptors into compact codes", TPAMI 2012).
/// </summary>
public sealed record VladOptions
{
    /// <summary>
    /// Exponent α of the signed power normalisation sign(z)·|z|^α applied to every component; 0.5 is the signed square
    /// root, 1 disables it. In (0, 1].
    /// </summary>
    public double Power { get; init; } = 0.5;

    /// <summary>
    /// L2-normalise each word's residual block separately (Arandjelović &amp; Zisserman, "All about VLAD", CVPR 2013), so a
    /// bursty word cannot dominate the vector.
    /// </summary>
    public bool IntraNormalization { get; init; }

    /// <summary>L2-normalise the whole vector (after the projection as well, when there is one).</summary>
    public bool L2Normalization { get; init; } = true;
}
