namespace DeepRetrieval.Reranking;

/// <summary>
/// A step after the index: takes queries, the database and the current ranked lists, and returns new ranked lists
/// (and, for database-side augmentation, a new database). Re-rankers chain through <see cref="RerankingPipeline"/>,
/// e.g. augmentation, then α-weighted query expansion, then diffusion.
/// </summary>
public interface IReranker
{
    /// <summary>Short name for logs and reports, e.g. <c>αQE(n=2, α=3)</c>.</summary>
    string Name { get; }

    /// <summary>Re-ranks every list of <paramref name="state"/>.</summary>
    /// <param name="state">Queries, database and current lists.</param>
    /// <param name="progress">Receives progress reports from long steps; may be null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The state after this step: new lists of <see cref="RerankingState.OutputWidth"/> entries.</returns>
    /// <exception cref="ArgumentException">A list holds an id the database does not, or a parameter does not fit the database.</exception>
    RerankingState Rerank(RerankingState state, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default);
}
