namespace DeepRetrieval.Aggregation;

/// <summary>How a weighted histogram is normalised before it is compared.</summary>
public enum VectorNormalization
{
    /// <summary>No normalisation: images with more features score higher.</summary>
    None,

    /// <summary>Divide by the sum of absolute values (the natural pairing with histogram intersection).</summary>
    L1,

    /// <summary>Divide by the Euclidean norm (a dot product of L2-normalised histograms is their cosine).</summary>
    L2,
}
