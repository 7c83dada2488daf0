namespace DeepRetrieval;

/// <summary>
/// How an index compares vectors. The value reported for each neighbour follows Faiss's convention:
/// a distance for <see cref="L2"/> and <see cref="Hamming"/> (smaller is closer) and a similarity for
/// <see cref="InnerProduct"/> and <see cref="Cosine"/> (larger is closer).
/// </summary>
public enum Metric
{
    /// <summary>Squared Euclidean distance, <c>Σ (xᵢ − yᵢ)²</c>. Results are sorted ascending.</summary>
    L2 = 0,

    /// <summary>Inner product, <c>Σ xᵢ yᵢ</c>. Results are sorted descending.</summary>
    InnerProduct = 1,

    /// <summary>
    /// Cosine similarity, <c>x·y / (‖x‖ ‖y‖)</c>. Indexes normalise stored vectors and queries, so a zero
    /// vector is rejected. Results are sorted descending.
    /// </summary>
    Cosine = 2,

    /// <summary>
    /// Hamming distance between binary codes: the number of bits that differ. Reported by binary indexes
    /// (<c>BFlat</c>) and by float indexes that rank by the Hamming distance of hashed codes (<c>ITQ…,BFlat</c>,
    /// <c>LSH</c> with Hamming results); always a whole number, smaller is closer, results are sorted ascending.
    /// Float indexes that compare the vectors themselves (Flat, HNSW, IVF, PQ, SQ, trees) reject it.
    /// </summary>
    Hamming = 3,
}

/// <summary>Helpers on <see cref="Metric"/>.</summary>
public static class MetricExtensions
{
    /// <summary>True when a larger value means a closer neighbour (inner product, cosine).</summary>
    public static bool IsSimilarity(this Metric metric) => metric switch
    {
        Metric.L2 or Metric.Hamming => false,
        Metric.InnerProduct or Metric.Cosine => true,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
    };
}
