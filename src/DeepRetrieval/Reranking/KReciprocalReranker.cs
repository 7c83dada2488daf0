using System.Numerics.Tensors;

namespace DeepRetrieval.Reranking;

/// <summary>
/// k-reciprocal encoding re-ranking (Zhong, Zheng, Cao and Li, CVPR 2017), computed as the authors' reference
/// implementation (<c>python-version/re_ranking_ranklist.py</c>) computes it: squared Euclidean distances over the
/// queries and the database together, each row divided by its maximum; k-reciprocal sets with k1 expanded by the
/// round(k1/2)-reciprocal sets of their members that share more than 2/3 with them; Gaussian-kernel weights
/// normalised per row; local query expansion over the k2 nearest nodes; Jaccard distance from the sum of element-wise
/// minima; final distance (1 − λ)·Jaccard + λ·original. Arithmetic is in float32 as in the reference.
/// </summary>
/// <remarks>
/// <para><b>Memory.</b> The reference holds several (q + n) × (q + n) matrices (original distances, ranks, V, the
/// expanded V): at 10,000 queries × 60,000 database vectors that is about 80 GB. This implementation finds each node's
/// k1 + 1 nearest nodes and its row maximum in one exact pass that keeps only O((q + n)·k1) values, stores V sparsely
/// (each row has at most a few times k1 non-zeros) with an inverted index, and ranks per query only the database items
/// whose Jaccard distance is below 1 plus the output width's nearest by original distance — which gives exactly the
/// reference's ranking, because every other item has Jaccard distance 1 and a larger original distance.</para>
/// <para><b>Time.</b> The pass over all pairs is quadratic in q + n, as in the reference (it needs every node's largest
/// distance); the rest is linear. The initial lists of the state are not used.</para>
/// <para>For a database querying itself use <see cref="RerankDatabaseItems"/>, where the nodes are the database items
/// alone instead of every item twice.</para>
/// <para>Ties: nodes at equal distance are ordered by node index (queries first, then database rows), where the
/// reference's <c>argsort</c> leaves the order to its sort algorithm.</para>
/// </remarks>
public sealed class KReciprocalReranker : IReranker
{
    /// <summary>Creates the re-ranker; the defaults are the paper's (k1 = 20, k2 = 6, λ = 0.3).</summary>
    /// <param name="k1">Size of the k-reciprocal neighbourhood; positive.</param>
    /// <param name="k2">Nodes averaged by the local query expansion, 1 ≤ k2 ≤ k1 + 1 (1 turns it off).</param>
    /// <param name="lambda">Weight λ of the original distance, 0 ≤ λ ≤ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public KReciprocalReranker(int k1 = 20, int k2 = 6, float lambda = 0.3f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k2);
        if (k2 > k1 + 1)
            throw new ArgumentOutOfRangeException(nameof(k2), k2, $"k2 must be at most k1 + 1 = {k1 + 1}.");
        if (!(lambda >= 0f && lambda <= 1f))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be between 0 and 1.");
        K1 = k1;
        K2 = k2;
        Lambda = lambda;
    }

    /// <summary>k1: size of the k-reciprocal neighbourhood.</summary>
    public int K1 { get; }

    /// <summary>k2: nodes averaged by the local query expansion.</summary>
    public int K2 { get; }

    /// <summary>λ: weight of the original distance in the final distance.</summary>
    public float Lambda { get; }

    /// <inheritdoc />
    public string Name => $"k-reciprocal(k1={K1}, k2={K2}, λ={Lambda:G})";

    /// <summary>
    /// Re-ranks with the queries and the database as the reference does: both are nodes of one neighbourhood graph.
    /// Scores are the final distances (smaller is better).
    /// </summary>
    /// <inheritdoc />
    public RerankingState Rerank(RerankingState state, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        MatrixDatabase database = MatrixDatabase.From(state.Database);
        int q = state.QueryCount, n = database.RowCount, d = database.Dimension;
        if (state.OutputWidth > n)
            throw new ArgumentOutOfRangeException(nameof(state), state.OutputWidth, $"OutputWidth = {state.OutputWidth} exceeds the {n} vectors of the database.");
        var nodes = new float[(long)(q + n) * d];
        state.Queries.Span.CopyTo(nodes);
        database.Vectors.Span.CopyTo(nodes.AsSpan(q * d));
        var queryNodes = new int[q];
        for (int i = 0; i < q; i++) queryNodes[i] = i;
        (int[] resultNodes, float[] distances) = Run(nodes, q + n, d, queryNodes, galleryStart: q, state.OutputWidth, progress, cancellationToken);
        return state with { Lists = ToLists(database, resultNodes, distances, q, state.OutputWidth, nodeOffset: q) };
    }

    /// <summary>
    /// Re-ranks a database querying itself: the nodes are the database items alone, and each query is the item
    /// stored under its id. Every list starts with the query's own id (final distance 0).
    /// </summary>
    /// <param name="database">The database.</param>
    /// <param name="queryIds">The database ids of the items that query.</param>
    /// <param name="outputWidth">Results per query, at most the database size.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>One list per query id, scored by final distance (smaller is better).</returns>
    /// <exception cref="ArgumentException">An id is not in the database, or the database is too small for k1.</exception>
    public RankedLists RerankDatabaseItems(IRerankingDatabase database, ReadOnlySpan<long> queryIds, int outputWidth,
        IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        MatrixDatabase matrix = MatrixDatabase.From(database);
        if (queryIds.IsEmpty) throw new ArgumentException("queryIds is empty.", nameof(queryIds));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputWidth);
        if (outputWidth > matrix.RowCount)
            throw new ArgumentOutOfRangeException(nameof(outputWidth), outputWidth, $"outputWidth exceeds the {matrix.RowCount} vectors of the database.");
        int[] queryNodes = matrix.RowsOf(queryIds, nameof(queryIds));
        float[] nodes = matrix.Vectors.ToArray();
        (int[] resultNodes, float[] distances) = Run(nodes, matrix.RowCount, matrix.Dimension, queryNodes, galleryStart: 0, outputWidth, progress, cancellationToken);
        return ToLists(matrix, resultNodes, distances, queryNodes.Length, outputWidth, nodeOffset: 0);
    }

    private static RankedLists ToLists(MatrixDatabase database, int[] resultNodes, float[] distances, int queries, int width, int nodeOffset)
    {
        var ids = new long[resultNodes.Length];
        ReadOnlySpan<long> rowIds = database.RowIds.Span;
        for (int i = 0; i < ids.Length; i++) ids[i] = rowIds[resultNodes[i] - nodeOffset];
        return new RankedLists(queries, width, ids, distances, ScoreOrder.SmallerIsBetter);
    }

    private (int[] Nodes, float[] Distances) Run(float[] nodes, int n, int d, int[] queryNodes, int galleryStart, int outputWidth,
        IProgress<RerankingProgress>? progress, CancellationToken cancellationToken)
    {
        if (K1 + 1 > n)
            throw new ArgumentOutOfRangeException(nameof(K1), K1, $"k1 + 1 = {K1 + 1} exceeds the {n} nodes (queries and database vectors) of the graph.");
        var graph = new KReciprocalGraph(nodes, n, d, K1, queryNodes, galleryStart, outputWidth);
        graph.FindNeighbors(progress, cancellationToken);
        graph.Encode(K2, progress, cancellationToken);
        return graph.Rank(Lambda, progress, cancellationToken);
    }
}
