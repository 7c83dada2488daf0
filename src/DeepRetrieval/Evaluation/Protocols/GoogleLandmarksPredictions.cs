namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>Predictions split as DELF's <c>ReadPredictions</c> splits them: Public and Private test images.</summary>
/// <typeparam name="TPrediction"><see cref="LandmarkPrediction"/> for recognition, a ranked list of index ids for retrieval.</typeparam>
/// <param name="Public">Predictions for Public test images.</param>
/// <param name="Private">Predictions for Private test images.</param>
public sealed record GoogleLandmarksPredictions<TPrediction>(IReadOnlyDictionary<string, TPrediction> Public, IReadOnlyDictionary<string, TPrediction> Private);
