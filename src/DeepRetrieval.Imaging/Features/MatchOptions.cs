using DeepRetrieval.Indexes;

namespace DeepRetrieval.Imaging.Features;

/// <summary>Filters applied by <see cref="DescriptorMatcher"/> to nearest-neighbour matches.</summary>
public sealed record MatchOptions
{
    /// <summary>
    /// Lowe's ratio test (IJCV 2004, §7.1): keep a match only when its distance is below this times the distance to the
    /// second-nearest train descriptor. 0.8 is Lowe's value (it rejects 90% of false matches and 5% of correct ones);
    /// null disables the test. In (0, 1].
    /// </summary>
    public float? RatioThreshold { get; init; } = 0.8f;

    /// <summary>
    /// Keep a match (q, t) only when q is also the nearest query descriptor to t: mutual nearest neighbours, as
    /// OpenCV's <c>BFMatcher(crossCheck=True)</c>. Combines with the ratio test (both must pass).
    /// </summary>
    public bool MutualNearest { get; init; }

    /// <summary>Keep only matches at most this Euclidean distance apart; null for no limit. Non-negative.</summary>
    public float? MaxDistance { get; init; }

    /// <summary>Threads and search-time knobs for the underlying index searches; null for defaults (all cores).</summary>
    public SearchOptions? Search { get; init; }
}
