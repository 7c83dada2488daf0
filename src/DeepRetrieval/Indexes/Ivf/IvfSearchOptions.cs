namespace DeepRetrieval.Indexes.Ivf;

/// <summary>Per-call settings for <see cref="IvfIndex"/>: the common options plus the number of lists to probe.</summary>
public class IvfSearchOptions : SearchOptions
{
    /// <summary>
    /// How many of the nearest inverted lists each query scans in this call (Faiss's <c>nprobe</c>); null uses the
    /// index's <see cref="IvfIndex.Nprobe"/>. Must be positive; values above the list count probe every list.
    /// </summary>
    public int? Nprobe { get; init; }
}
