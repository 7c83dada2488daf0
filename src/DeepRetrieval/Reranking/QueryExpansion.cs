using System.Numerics.Tensors;

namespace DeepRetrieval.Reranking;

/// <summary>
/// Query expansion: each query is replaced by the L2-normalised weighted sum of itself (weight 1) and its top
/// <see cref="Neighbors"/> results, then searched again. With <see cref="Alpha"/> = 0 every weight is 1: average query
/// expansion (AQE, Chum et al., ICCV 2007). With α &gt; 0 a neighbour with similarity s to the query weighs s^α:
/// α-weighted query expansion (αQE, Radenović, Tolias and Chum, TPAMI 2019; they use n = 2, α = 3 for GeM).
/// </summary>
/// <remarks>
/// <para>Similarities are inner products of the stored vectors with the query, so vectors should be L2-normalised; a
/// negative similarity weighs 0 when α &gt; 0. Missing entries of a list are skipped.</para>
/// <para>The expansion reads only n vectors per query; the second search costs what the database's search costs.</para>
/// </remarks>
public sealed class QueryExpansion : IReranker
{
    /// <summary>Creates a query expansion.</summary>
    /// <param name="neighbors">n: how many top results are added to the query; positive.</param>
    /// <param name="alpha">α ≥ 0: the exponent of the similarity weights; 0 gives average query expansion.</param>
    /// <param name="search">Whether the expanded query searches the database again or only re-scores each list.</param>
    /// <exception cref="ArgumentOutOfRangeException">n is not positive, or α is negative or not finite.</exception>
    public QueryExpansion(int neighbors, float alpha = 0f, QueryExpansionSearch search = QueryExpansionSearch.Database)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(neighbors);
        if (!(alpha >= 0f) || !float.IsFinite(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be a finite, non-negative number.");
        if (!Enum.IsDefined(search))
            throw new ArgumentOutOfRangeException(nameof(search), search, "Unknown search mode.");
        Neighbors = neighbors;
        Alpha = alpha;
        Search = search;
    }

    /// <summary>Average query expansion (AQE) over the top <paramref name="neighbors"/> results.</summary>
    /// <param name="neighbors">n: how many top results are averaged with the query.</param>
    /// <param name="search">Whether the expanded query searches the database again or only re-scores each list.</param>
    public static QueryExpansion Average(int neighbors, QueryExpansionSearch search = QueryExpansionSearch.Database) => new(neighbors, 0f, search);

    /// <summary>α-weighted query expansion (αQE) over the top <paramref name="neighbors"/> results.</summary>
    /// <param name="neighbors">n: how many top results are added to the query.</param>
    /// <param name="alpha">α: the exponent of the similarity weights.</param>
    /// <param name="search">Whether the expanded query searches the database again or only re-scores each list.</param>
    public static QueryExpansion AlphaWeighted(int neighbors, float alpha, QueryExpansionSearch search = QueryExpansionSearch.Database) =>
        new(neighbors, alpha, search);

    /// <summary>n: how many top results are added to each query.</summary>
    public int Neighbors { get; }

    /// <summary>α: the exponent of the similarity weights (0 for average query expansion).</summary>
    public float Alpha { get; }

    /// <summary>Whether the expanded query searches the database again or only re-scores each list.</summary>
    public QueryExpansionSearch Search { get; }

    /// <inheritdoc />
    public string Name => Alpha == 0f ? $"AQE(n={Neighbors})" : $"αQE(n={Neighbors}, α={Alpha:G})";

    /// <inheritdoc />
    /// <remarks>Reads only the listed vectors (through <see cref="IRerankingDatabase.Reconstruct"/>) and searches through the database's own search.</remarks>
    public RerankingState Rerank(RerankingState state, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        IRerankingDatabase database = state.Database;
        RerankingRows.CheckNeighbors(Neighbors, database.Count, state.Lists.Width, nameof(Neighbors));
        if (Search == QueryExpansionSearch.Shortlist && state.OutputWidth > state.Lists.Width)
            throw new ArgumentException(
                $"OutputWidth = {state.OutputWidth} exceeds the list width {state.Lists.Width}; re-scoring a shortlist cannot add results (use QueryExpansionSearch.Database).",
                nameof(state));

        int d = database.Dimension, queries = state.QueryCount;
        float[] expanded = new float[(long)queries * d];
        var neighbors = new float[Neighbors * d];
        for (int q = 0; q < queries; q++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = RerankingRows.ListVectors(database, state.Lists, q, Neighbors, neighbors);
            Expand(state.GetQuery(q), neighbors.AsSpan(0, count * d), d, Alpha, expanded.AsSpan(q * d, d));
        }

        progress?.Report(new RerankingProgress("query expansion", queries, queries));
        RankedLists lists = Search == QueryExpansionSearch.Database
            ? RerankingRows.Search(database, expanded, queries, state.OutputWidth)
            : Rescore(state, expanded);
        return state with { Lists = lists };
    }

    /// <summary>
    /// Writes the expanded query: normalise(query + Σ wᵢ xᵢ) with wᵢ = max(query·xᵢ, 0)^α (wᵢ = 1 when α = 0), the xᵢ
    /// being the rows of <paramref name="neighbors"/>.
    /// </summary>
    internal static void Expand(ReadOnlySpan<float> query, ReadOnlySpan<float> neighbors, int dimension, float alpha, Span<float> expanded)
    {
        query.CopyTo(expanded);
        for (int at = 0; at < neighbors.Length; at += dimension)
        {
            ReadOnlySpan<float> neighbor = neighbors.Slice(at, dimension);
            float weight = Weight(TensorPrimitives.Dot(query, neighbor), alpha);
            if (weight != 0f) TensorPrimitives.MultiplyAdd(neighbor, weight, expanded, expanded);
        }

        RerankingRows.Normalize(expanded);
    }

    /// <summary>The weight of a neighbour of similarity <paramref name="similarity"/>: 1 for α = 0, else max(s, 0)^α.</summary>
    internal static float Weight(float similarity, float alpha) =>
        alpha == 0f ? 1f : similarity <= 0f ? 0f : MathF.Pow(similarity, alpha);

    private static RankedLists Rescore(RerankingState state, float[] expanded)
    {
        IRerankingDatabase database = state.Database;
        int width = state.OutputWidth, d = database.Dimension, listWidth = state.Lists.Width;
        var ids = new long[(long)state.QueryCount * width];
        var scores = new float[ids.Length];
        var vectors = new float[listWidth * d];
        var candidateIds = new long[listWidth];
        var candidateScores = new float[listWidth];
        var keys = new float[width];
        var positions = new long[width];
        for (int q = 0; q < state.QueryCount; q++)
        {
            int count = RerankingRows.ListVectors(database, state.Lists, q, listWidth, vectors, candidateIds);
            ReadOnlySpan<float> query = expanded.AsSpan(q * d, d);
            for (int i = 0; i < count; i++) candidateScores[i] = TensorPrimitives.Dot(query, vectors.AsSpan(i * d, d));
            RerankingRows.SelectBest(candidateScores.AsSpan(0, count), candidateIds.AsSpan(0, count), ScoreOrder.LargerIsBetter,
                ids.AsSpan(q * width, width), scores.AsSpan(q * width, width), keys, positions);
        }

        return new RankedLists(state.QueryCount, width, ids, scores, ScoreOrder.LargerIsBetter);
    }
}
