namespace DeepRetrieval.Imaging.Features;

/// <summary>Settings of <see cref="FeatureEvaluation"/>; the defaults are Mikolajczyk et al.'s protocol as OpenCV's <c>evaluateFeatureDetector</c> applies it.</summary>
public sealed record RepeatabilityOptions
{
    /// <summary>Two regions correspond when their overlap error 1 − |A ∩ B| / |A ∪ B| is below this; 0.4 (40%) in the protocol. In (0, 1).</summary>
    public double MaxOverlapError { get; init; } = 0.4;

    /// <summary>
    /// Before the overlap is measured, both regions are scaled so that the first has this radius in pixels, which stops
    /// large regions from corresponding more easily than small ones; 30 in the protocol. Positive.
    /// </summary>
    public double NormalizedRadius { get; init; } = 30;

    /// <summary>
    /// A keypoint's region is a circle of radius <see cref="Keypoint.Size"/> / 2 times this factor (1, OpenCV's convention
    /// for evaluating its detectors). Positive.
    /// </summary>
    public double RegionScale { get; init; } = 1;
}
