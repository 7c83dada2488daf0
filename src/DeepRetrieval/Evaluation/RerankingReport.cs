using DeepRetrieval.Reranking;

namespace DeepRetrieval.Evaluation;

/// <summary>
/// What <see cref="RetrievalEvaluator.EvaluateReranking{TLabel}"/> measured: the label metrics of the lists before and
/// after a re-ranker, the re-ranked state, and how long the re-ranker took.
/// </summary>
/// <param name="Before">Metrics of the initial lists.</param>
/// <param name="After">Metrics of the re-ranked lists.</param>
/// <param name="Reranked">The state the re-ranker returned (its lists as returned, self-matches included).</param>
/// <param name="Elapsed">Wall-clock time of the re-ranker.</param>
public sealed record RerankingReport(LabelRetrievalReport Before, LabelRetrievalReport After, RerankingState Reranked, TimeSpan Elapsed);
