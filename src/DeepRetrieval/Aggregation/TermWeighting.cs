namespace DeepRetrieval.Aggregation;

/// <summary>How bag-of-words term counts are weighted.</summary>
public enum TermWeighting
{
    /// <summary>The (burstiness-adjusted) term frequency alone.</summary>
    TermFrequency,

    /// <summary>
    /// Term frequency times inverse document frequency ln(N / nᵢ), N the images in the index and nᵢ those containing word
    /// i (Sivic &amp; Zisserman 2003): words present everywhere weigh nothing. Recomputed as images are added or removed.
    /// </summary>
    TfIdf,
}
