namespace DeepRetrieval.Aggregation;

/// <summary>
/// Which gradients a <see cref="FisherVectorEncoder"/> keeps and how it normalises them. The defaults are the improved
/// Fisher vector of Perronnin, Sánchez &amp; Mensink (ECCV 2010): gradients with respect to means and variances, signed
/// square root, then L2.
/// </summary>
public sealed record FisherVectorOptions
{
    /// <summary>Include the gradient with respect to the means (K × d values).</summary>
    public bool Means { get; init; } = true;

    /// <summary>Include the gradient with respect to the variances (K × d values).</summary>
    public bool Variances { get; init; } = true;

    /// <summary>Exponent α of the signed power normalisation; 0.5 in the improved Fisher vector, 1 disables it. In (0, 1].</summary>
    public double Power { get; init; } = 0.5;

    /// <summary>L2-normalise the whole vector (after the power normalisation).</summary>
    public bool L2Normalization { get; init; } = true;
}
