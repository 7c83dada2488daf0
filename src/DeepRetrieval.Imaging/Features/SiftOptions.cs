namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Settings of <see cref="Sift"/>. The defaults are those of OpenCV's <c>cv2.SIFT_create()</c> (nfeatures 0,
/// nOctaveLayers 3, contrastThreshold 0.04, edgeThreshold 10, sigma 1.6) with the first octave up-sampled.
/// </summary>
public sealed record SiftOptions
{
    /// <summary>
    /// Keep only the keypoints of largest <see cref="Keypoint.Response"/>, as OpenCV's <c>nfeatures</c>; 0 keeps all.
    /// Keypoints tied with the last one kept are kept too (OpenCV's <c>KeyPointsFilter::retainBest</c>).
    /// </summary>
    public int MaxKeypoints { get; init; }

    /// <summary>Intervals per octave (OpenCV's <c>nOctaveLayers</c>, Lowe's s); 1 … 16.</summary>
    public int OctaveLayers { get; init; } = 3;

    /// <summary>
    /// DoG contrast threshold for intensities scaled to 0 … 1. As in OpenCV it is divided by <see cref="OctaveLayers"/>
    /// before use (0.04 / 3 ≈ 0.013); lower values give more keypoints in flat regions. Non-negative.
    /// </summary>
    public double ContrastThreshold { get; init; } = 0.04;

    /// <summary>
    /// Edge threshold r: extrema with principal-curvature ratio of r or more are rejected (tr² · r ≥ (r + 1)² · det);
    /// larger values keep more edge-like keypoints. Positive.
    /// </summary>
    public double EdgeThreshold { get; init; } = 10;

    /// <summary>σ of the Gaussian at the first layer of every octave; the input is assumed to be blurred by 0.5 already. Positive.</summary>
    public double Sigma { get; init; } = 1.6;

    /// <summary>
    /// Start the pyramid at the image up-sampled by two (Lowe's recommendation and OpenCV's behaviour), which roughly
    /// quadruples the keypoints at small scales; false starts at the input resolution (faster, fewer keypoints).
    /// </summary>
    public bool UpsampleFirstOctave { get; init; } = true;

    /// <summary>How descriptors are scaled; <see cref="SiftDescriptorNormalization.OpenCv"/> by default.</summary>
    public SiftDescriptorNormalization Normalization { get; init; } = SiftDescriptorNormalization.OpenCv;

    /// <summary>
    /// Threads used within one image (blur bands, DoG layers, descriptor ranges); 1 (the default) runs on the calling
    /// thread, 0 uses every core. Pipelines that describe many images usually parallelise over images instead.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;
}
