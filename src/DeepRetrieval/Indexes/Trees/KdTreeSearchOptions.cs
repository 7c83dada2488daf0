namespace DeepRetrieval.Indexes.Trees;

/// <summary>Per-call settings for <see cref="KdTreeIndex"/>: the common options plus the leaf budget.</summary>
public class KdTreeSearchOptions : SearchOptions
{
    /// <summary>
    /// The most leaves one query scans for this call (FLANN's <c>checks</c>, counted in leaves); 0 searches exactly,
    /// null uses the index's <see cref="KdTreeIndex.MaxLeaves"/>. Must not be negative.
    /// </summary>
    public int? MaxLeaves { get; init; }
}
