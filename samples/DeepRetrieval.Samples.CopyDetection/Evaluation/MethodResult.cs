namespace DeepRetrieval.Samples.CopyDetection.Evaluation;

/// <summary>How well one method found the originals of the copies.</summary>
/// <param name="Method">The method's name.</param>
/// <param name="RecallAt1">Share of copies whose original is ranked first among all references (ties count against it).</param>
/// <param name="MeanAveragePrecision">Mean over copies of the AP of its ranking of all references (one right answer, so 1 / rank).</param>
/// <param name="MicroAveragePrecision">ISC 2021 μAP over one list of all (copy, reference) pairs.</param>
/// <param name="RecallAtPrecision90">ISC 2021 recall at precision 0.9; null when no threshold reaches that precision.</param>
/// <param name="ThresholdAtPrecision90">The score threshold of that operating point.</param>
/// <param name="RecallAt1ByTransform">Recall@1 of the copies of each edit, in the order the edits were run.</param>
/// <param name="Curve">Precision against recall along the ISC list (one point per true pair, thinned), for the plot.</param>
/// <param name="MillisecondsPerImage">Mean time to describe and search one image (references and queries together).</param>
internal sealed record MethodResult(
    string Method,
    double RecallAt1,
    double MeanAveragePrecision,
    double MicroAveragePrecision,
    double? RecallAtPrecision90,
    double? ThresholdAtPrecision90,
    IReadOnlyList<KeyValuePair<string, double>> RecallAt1ByTransform,
    IReadOnlyList<PrecisionRecallPoint> Curve,
    double MillisecondsPerImage)
{
    /// <summary>Mean time to describe and index one reference (a trained method's encoding after training included).</summary>
    public double MillisecondsPerReference { get; init; }

    /// <summary>Mean time to describe one copy and score every reference for it.</summary>
    public double MillisecondsPerQuery { get; init; }

    /// <summary>Time to learn the method's model from the distractors (vocabulary, PCA, mixture); 0 for untrained methods.</summary>
    public double TrainingSeconds { get; init; }
}

/// <summary>One point of a precision/recall curve.</summary>
internal readonly record struct PrecisionRecallPoint(double Recall, double Precision);
