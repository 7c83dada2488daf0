namespace DeepRetrieval.Aggregation;

/// <summary>How an <see cref="InvertedFile"/> scores a database histogram against the query's.</summary>
public enum HistogramSimilarity
{
    /// <summary>Σᵢ qᵢ dᵢ: cosine similarity for L2-normalised histograms.</summary>
    DotProduct,

    /// <summary>Σᵢ min(qᵢ, dᵢ): histogram intersection (Swain &amp; Ballard 1991), in [0, 1] for L1-normalised histograms.</summary>
    Intersection,
}
