using System.Numerics.Tensors;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// Fast spectral ranking (Iscen, Avrithis, Tolias, Furon and Chum, CVPR 2018), the large-scale form of
/// <see cref="Diffusion"/>: offline, the <see cref="Rank"/> largest eigenpairs (λ, u) of the graph's S; the
/// diffusion (I − αS)⁻¹ is approximated by U h(Λ) Uᵀ with h(λ) = 1 / (1 − αλ) (the paper's FSR.APPROX; its
/// transfer function differs by the constant factor 1 − α, which does not change rankings). Every database item i
/// gets the explicit embedding h(Λ)^½ Uᵀeᵢ and every query h(Λ)^½ Uᵀy (y as in diffusion), so ranking is a
/// maximum-inner-product search over rank-dimensional vectors: the query cost no longer depends on the graph.
/// With the rank equal to the database size the scores equal diffusion's exact solution.
/// </summary>
/// <remarks>
/// The eigenpairs come from block Lanczos with full reorthogonalisation over a Krylov space of
/// <see cref="KrylovDimension"/> vectors (O(n·m²) time, O(n·m) memory for m = the Krylov dimension). The embeddings
/// take n × rank floats; queries are searched with an exact inner-product <see cref="FlatIndex"/>.
/// </remarks>
public sealed class FastSpectralRanking : IReranker
{
    private readonly FlatIndex _embeddings;

    /// <summary>Computes the spectral embedding of a graph (the offline step).</summary>
    /// <param name="graph">The offline graph of the database.</param>
    /// <param name="rank">r: eigenpairs kept; at most the node count.</param>
    /// <param name="queryNeighbors">kq: nearest database items that seed each query (10 in the paper).</param>
    /// <param name="alpha">α in (0, 1): the damping (0.99).</param>
    /// <param name="krylovDimension">Size of the Krylov space the eigenpairs are taken from; null for max(2r, r + 64).</param>
    /// <param name="blockSize">Vectors per Lanczos block, at least the largest eigenvalue multiplicity to be found (16).</param>
    /// <param name="seed">Seed of the random start block.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public FastSpectralRanking(AffinityGraph graph, int rank, int queryNeighbors = 10, double alpha = 0.99, int? krylovDimension = null,
        int blockSize = 16, int seed = 0, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (rank > graph.NodeCount)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank exceeds the {graph.NodeCount} nodes of the graph.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryNeighbors);
        if (!(alpha > 0 && alpha < 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be strictly between 0 and 1.");
        int krylov = krylovDimension ?? Math.Max(2 * rank, rank + 64);
        if (krylov < rank)
            throw new ArgumentOutOfRangeException(nameof(krylovDimension), krylov, $"krylovDimension must be at least the rank ({rank}).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);

        Graph = graph;
        Rank = rank;
        QueryNeighbors = queryNeighbors;
        Alpha = alpha;
        KrylovDimension = Math.Min(krylov, graph.NodeCount);
        (double[] eigenvalues, double[][] vectors) = SpectralBasis.Compute(graph, rank, KrylovDimension, blockSize, seed, progress, cancellationToken);
        Eigenvalues = eigenvalues;

        int n = graph.NodeCount;
        var embedded = new float[(long)n * rank];
        for (int r = 0; r < rank; r++)
        {
            double scale = Math.Sqrt(1.0 / (1.0 - alpha * eigenvalues[r]));
            double[] u = vectors[r];
            for (int i = 0; i < n; i++) embedded[(long)i * rank + r] = (float)(scale * u[i]);
        }

        _embeddings = new FlatIndex(rank, Metric.InnerProduct);
        var rows = new long[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        _embeddings.Add(embedded, rows);
    }

    /// <summary>The graph the embedding was computed from.</summary>
    public AffinityGraph Graph { get; }

    /// <summary>r: eigenpairs kept.</summary>
    public int Rank { get; }

    /// <summary>kq: nearest database items that seed each query.</summary>
    public int QueryNeighbors { get; }

    /// <summary>α: the damping.</summary>
    public double Alpha { get; }

    /// <summary>Size of the Krylov space the eigenpairs were taken from.</summary>
    public int KrylovDimension { get; }

    /// <summary>The kept eigenvalues of S, largest first.</summary>
    public IReadOnlyList<double> Eigenvalues { get; }

    /// <summary>Bytes held by the embeddings.</summary>
    public long MemoryUsageBytes => _embeddings.MemoryUsageBytes;

    /// <inheritdoc />
    public string Name => $"FSR(r={Rank}, kq={QueryNeighbors}, α={Alpha:G})";

    /// <summary>Scores approximate diffusion's f (larger is better).</summary>
    /// <inheritdoc />
    public RerankingState Rerank(RerankingState state, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        MatrixDatabase database = Graph.Database;
        if (!ReferenceEquals(state.Database, database) && state.Database.Count != database.Count)
            throw new ArgumentException($"The state's database holds {state.Database.Count} vectors but the graph was built on {database.Count}.", nameof(state));
        int n = Graph.NodeCount, width = state.OutputWidth, queries = state.QueryCount;
        RerankingRows.CheckNeighbors(QueryNeighbors, n, state.Lists.Width, nameof(QueryNeighbors));
        if (width > n)
            throw new ArgumentOutOfRangeException(nameof(state), width, $"OutputWidth = {width} exceeds the {n} vectors of the database.");

        // Query embedding: Σ yᵢ (row i of the database embedding), y as diffusion builds it.
        var embedded = new float[(long)queries * Rank];
        var rows = new int[QueryNeighbors];
        var item = new float[Rank];
        for (int q = 0; q < queries; q++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReadOnlySpan<float> query = state.GetQuery(q);
            Span<float> target = embedded.AsSpan(q * Rank, Rank);
            int count = RerankingRows.ListRows(database, state.Lists, q, QueryNeighbors, rows);
            foreach (int row in rows.AsSpan(0, count))
            {
                float weight = AffinityGraph.Affinity(TensorPrimitives.Dot(query, database.GetRow(row)), Graph.Gamma);
                if (weight == 0f) continue;
                _embeddings.Reconstruct(row, item);
                TensorPrimitives.MultiplyAdd(item, weight, target, target);
            }
        }

        var found = new long[(long)queries * width];
        var scores = new float[found.Length];
        _embeddings.Search(embedded, width, found, scores);
        ReadOnlySpan<long> rowIds = database.RowIds.Span;
        for (int i = 0; i < found.Length; i++)
            if (found[i] >= 0) found[i] = rowIds[(int)found[i]];
        progress?.Report(new RerankingProgress("spectral ranking", queries, queries));
        return state with { Database = database, Lists = new RankedLists(queries, width, found, scores, ScoreOrder.LargerIsBetter) };
    }
}
