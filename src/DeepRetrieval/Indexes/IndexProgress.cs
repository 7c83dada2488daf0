namespace DeepRetrieval.Indexes;

/// <summary>Progress of a long <see cref="IVectorIndex.Train"/> or <see cref="IVectorIndex.Add(ReadOnlySpan{float}, ReadOnlySpan{long}, IndexBuildOptions?)"/>.</summary>
/// <param name="Step">What is running: <c>"add"</c>, <c>"k-means"</c> (iterations), <c>"PQ codebooks"</c> (sub-quantizers), <c>"transforms"</c> (parts of a chain).</param>
/// <param name="Completed">Units of the step done so far.</param>
/// <param name="Total">Units of the step in all.</param>
public readonly record struct IndexProgress(string Step, long Completed, long Total)
{
    /// <summary>The share done, from 0 to 1 (1 when the step has no units).</summary>
    public double Fraction => Total <= 0 ? 1.0 : (double)Completed / Total;
}
