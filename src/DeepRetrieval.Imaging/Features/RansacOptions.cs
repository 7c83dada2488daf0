namespace DeepRetrieval.Imaging.Features;

/// <summary>Settings of <see cref="Ransac"/>; defaults follow OpenCV's <c>findHomography(…, RANSAC)</c>.</summary>
public sealed record RansacOptions
{
    /// <summary>The transform to fit.</summary>
    public GeometricModel Model { get; init; } = GeometricModel.Homography;

    /// <summary>A correspondence is an inlier when its reprojection error in the second image is below this many pixels; positive.</summary>
    public double ReprojectionThreshold { get; init; } = 3.0;

    /// <summary>Most random samples drawn; positive. Fewer are drawn once <see cref="Confidence"/> is reached.</summary>
    public int MaxIterations { get; init; } = 2000;

    /// <summary>Stop once the probability of having drawn an all-inlier sample reaches this; in (0, 1).</summary>
    public double Confidence { get; init; } = 0.995;

    /// <summary>Seeds the sampler: the same seed and correspondences give the same result on every run and machine.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Refit the best model by least squares on its inliers and re-count, repeating while the inlier set grows (at most
    /// three rounds): the local optimisation of LO-RANSAC, which recovers inliers a noisy minimal sample misses.
    /// </summary>
    public bool Refine { get; init; } = true;
}
