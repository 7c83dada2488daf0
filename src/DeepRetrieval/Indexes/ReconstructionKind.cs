namespace DeepRetrieval.Indexes;

/// <summary>What <see cref="IVectorIndex.Reconstruct"/> gives back for an index (Faiss's <c>reconstruct</c>).</summary>
public enum ReconstructionKind
{
    /// <summary>
    /// Nothing: the index keeps no form of the vector it could decode (hashes such as <c>LSH</c> and <c>BFlat</c>'s sign
    /// bits, or a transform without an inverse); <see cref="IVectorIndex.Reconstruct"/> throws <see cref="NotSupportedException"/>.
    /// </summary>
    None = 0,

    /// <summary>
    /// The vector as stored, bit for bit: the vector that was added, or its unit-length form for <see cref="Metric.Cosine"/>
    /// (Flat, HNSW on floats, IVF…,Flat, RFlat, KDTree, RPForest).
    /// </summary>
    Exact = 1,

    /// <summary>
    /// The decoded code (SQ, PQ, HNSW on SQ codes, IVF with SQ or PQ lists), or the inner index's vector mapped back
    /// through the transforms' inverses (PCA, OPQ, ITQ), which loses what the transforms dropped.
    /// </summary>
    Approximate = 2,
}
