namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>A predicted copy: the query image, the reference image it copies, and the confidence.</summary>
/// <param name="Query">Query image id.</param>
/// <param name="Reference">Reference image id.</param>
/// <param name="Score">Confidence (higher means more likely a copy; not a distance).</param>
public readonly record struct CopyDetectionPrediction(string Query, string Reference, double Score);

/// <summary>A true copy pair of the ground truth.</summary>
/// <param name="Query">Query image id.</param>
/// <param name="Reference">Reference image id it copies.</param>
public readonly record struct CopyDetectionGroundTruth(string Query, string Reference);
