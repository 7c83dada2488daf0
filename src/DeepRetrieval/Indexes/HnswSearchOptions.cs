namespace DeepRetrieval.Indexes;

/// <summary>Per-call settings for <see cref="HnswIndex"/>: the common options plus the beam width.</summary>
public class HnswSearchOptions : SearchOptions
{
    /// <summary>
    /// The beam width on layer 0 for this call (hnswlib's <c>ef</c>); null uses the index's
    /// <see cref="HnswIndex.EfSearch"/>. Must be positive. The search always uses at least k.
    /// </summary>
    public int? Ef { get; init; }
}
