namespace DeepRetrieval.Imaging.Features;

/// <summary>Settings of <see cref="SpatialReranker"/>.</summary>
public sealed record SpatialRerankOptions
{
    /// <summary>How tentative correspondences are found when descriptors are matched; Lowe's 0.8 ratio test by default.</summary>
    public MatchOptions Matching { get; init; } = new();

    /// <summary>The transform and RANSAC settings; an affine model by default (robust with the few matches of a retrieval short list).</summary>
    public RansacOptions Ransac { get; init; } = new() { Model = GeometricModel.Affine };

    /// <summary>
    /// Candidates with fewer inliers are not considered verified and keep their retrieval order after the verified ones.
    /// Non-negative; Philbin et al. use a handful.
    /// </summary>
    public int MinimumInliers { get; init; } = 6;

    /// <summary>
    /// For word correspondences: a visual word contributes pairs only when it occurs at most this many times in each of
    /// the two images (bursty words would flood RANSAC with ambiguous pairs). Positive.
    /// </summary>
    public int MaxWordOccurrences { get; init; } = 4;
}
