namespace DeepRetrieval.Indexes.Trees;

/// <summary>Per-call settings for <see cref="RandomProjectionForestIndex"/>: the common options plus Annoy's <c>search_k</c>.</summary>
public class RandomProjectionForestSearchOptions : SearchOptions
{
    /// <summary>
    /// The number of distinct candidates to collect from the trees before re-ranking them exactly, for this call;
    /// 0 means trees × k (Annoy's default), null uses the index's <see cref="RandomProjectionForestIndex.SearchK"/>.
    /// Must not be negative.
    /// </summary>
    public int? SearchK { get; init; }
}
