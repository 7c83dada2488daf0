namespace DeepRetrieval.Imaging.Features;

/// <summary>The outcome of <see cref="Ransac"/>: the best transform, its inliers and its score.</summary>
public sealed class GeometricVerification
{
    internal GeometricVerification(bool success, Homography transform, bool[] inliers, int inlierCount, double score, int iterations)
    {
        Success = success;
        Transform = transform;
        Inliers = inliers;
        InlierCount = inlierCount;
        Score = score;
        Iterations = iterations;
    }

    /// <summary>True when a non-degenerate model was found; false for too few correspondences or only degenerate samples.</summary>
    public bool Success { get; }

    /// <summary>The fitted transform from the first point set to the second (identity when <see cref="Success"/> is false).</summary>
    public Homography Transform { get; }

    /// <summary>One flag per correspondence: true for inliers of <see cref="Transform"/>.</summary>
    public bool[] Inliers { get; }

    /// <summary>Number of inliers; the usual spatial-verification score for re-ranking.</summary>
    public int InlierCount { get; }

    /// <summary>
    /// The MSAC score Σ max(0, 1 − e²/t²) over all correspondences (e the reprojection error, t the threshold): an inlier
    /// count that favours precise fits, between 0 and <see cref="InlierCount"/>.
    /// </summary>
    public double Score { get; }

    /// <summary>Random samples drawn.</summary>
    public int Iterations { get; }

    internal static GeometricVerification Failed(int count, int iterations) => new(false, Homography.Identity, new bool[count], 0, 0, iterations);
}
