namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>The Image Similarity Challenge 2021 (descriptor / matching track) scores.</summary>
/// <param name="AveragePrecision">Micro average precision over the one global list of predictions (μAP).</param>
/// <param name="RecallAtPrecision90">The highest recall among operating points with precision ≥ 0.9; null when none reaches it.</param>
/// <param name="ThresholdAtPrecision90">The score threshold of that operating point; null when none reaches it.</param>
/// <param name="RecallAtRank1">Fraction of true pairs whose reference is ranked first among its query's predictions.</param>
/// <param name="RecallAtRank10">Fraction of true pairs whose reference is among its query's first 10 predictions.</param>
public sealed record CopyDetectionResult(double AveragePrecision, double? RecallAtPrecision90, double? ThresholdAtPrecision90, double RecallAtRank1, double RecallAtRank10);
