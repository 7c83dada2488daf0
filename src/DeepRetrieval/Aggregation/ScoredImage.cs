namespace DeepRetrieval.Aggregation;

/// <summary>A database image and its similarity to a query; larger scores are more similar.</summary>
/// <param name="Id">The image id given when it was added.</param>
/// <param name="Score">The similarity (dot product, histogram intersection or match-kernel sum, depending on the index).</param>
public readonly record struct ScoredImage(long Id, float Score);
