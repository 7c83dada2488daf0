namespace DeepRetrieval.VectorData.Storage;

/// <summary>A search hit: the row and its score in the abstraction's convention for the column's distance function.</summary>
/// <param name="Row">The record.</param>
/// <param name="Score">The score (a similarity, a distance or a fused rank score; see <c>ScoreConvention</c>).</param>
public readonly record struct ScoredRow(RecordRow Row, double Score);
