namespace DeepRetrieval.Aggregation;

/// <summary>
/// How an <see cref="InvertedFile"/> turns term counts into compared vectors: burstiness damping, then weighting, then
/// normalisation, then the similarity. The defaults are the classic Video Google set-up (square-rooted TF-IDF, L2,
/// dot product).
/// </summary>
public sealed record BagOfWordsOptions
{
    /// <summary>Damping of repeated words, applied to each count first.</summary>
    public BurstinessHandling Burstiness { get; init; } = BurstinessHandling.SquareRoot;

    /// <summary>Term weighting, applied after <see cref="Burstiness"/>.</summary>
    public TermWeighting Weighting { get; init; } = TermWeighting.TfIdf;

    /// <summary>Normalisation of the weighted histogram.</summary>
    public VectorNormalization Normalization { get; init; } = VectorNormalization.L2;

    /// <summary>The score between the normalised query and database histograms.</summary>
    public HistogramSimilarity Similarity { get; init; } = HistogramSimilarity.DotProduct;
}
