using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Datasets;

/// <summary>Revisited Oxford or Paris ready to evaluate: database and query images and the ground truth.</summary>
/// <param name="Name"><c>roxford5k</c> or <c>rparis6k</c>.</param>
/// <param name="Database">The database images, in ground-truth order (labels are −1: instance retrieval has no classes).</param>
/// <param name="Queries">The query images (whole images; crop each to its <see cref="RevisitedQuery.BoundingBox"/> before extracting, as the protocol prescribes).</param>
/// <param name="GroundTruth">The official ground truth.</param>
public sealed record RevisitedDataset(string Name, ImageCollection Database, ImageCollection Queries, RevisitedGroundTruth GroundTruth);
