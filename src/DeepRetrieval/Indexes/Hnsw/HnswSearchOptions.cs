namespace DeepRetrieval.Indexes.Hnsw;

/// <summary>Per-call settings for <see cref="HnswIndex"/>: the common options plus the beam width.</summary>
public class HnswSearchOptions : SearchOptions
{
    /// <summary>
    /// The beam width on layer 0 for this call (hnswlib's <c>ef</c>); null uses the index's
    /// <see cref="HnswIndex.EfSearch"/>. Must be positive. The search always uses at least k.
    /// </summary>
    public int? Ef { get; init; }

    /// <summary>
    /// With a filter (<see cref="SearchOptions.Selector"/> or <see cref="SearchOptions.Filter"/>): when at most this
    /// many ids are (estimated to be) allowed, the search skips the graph and compares the query with every allowed
    /// vector, which is exact and, for a selective filter, faster than a beam that must wade through filtered-out
    /// nodes (Qdrant's <c>full_scan_threshold</c>). Null chooses by a cost estimate; 0 always uses the graph.
    /// </summary>
    public int? ExactScanThreshold { get; init; }
}
