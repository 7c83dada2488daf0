namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>A Google Landmarks recognition prediction: one landmark and its confidence for a test image.</summary>
/// <param name="Landmark">The predicted landmark id.</param>
/// <param name="Score">The confidence; predictions are ranked by it across all images.</param>
public readonly record struct LandmarkPrediction(long Landmark, double Score);
