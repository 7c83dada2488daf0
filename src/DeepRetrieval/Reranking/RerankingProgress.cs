namespace DeepRetrieval.Reranking;

/// <summary>Progress of a re-ranking step.</summary>
/// <param name="Stage">What is being done, e.g. <c>k-NN graph</c> or <c>queries</c>.</param>
/// <param name="Completed">Items of the stage done so far.</param>
/// <param name="Total">Items the stage has in all.</param>
public readonly record struct RerankingProgress(string Stage, long Completed, long Total);
