using System.Numerics.Tensors;

namespace DeepRetrieval.Reranking;

/// <summary>
/// Diffusion on the database's k-NN graph (Iscen, Tolias, Avrithis, Furon and Chum, CVPR 2017), as the authors'
/// <c>diffusion-retrieval</c> code computes it for global descriptors: offline, the <see cref="AffinityGraph"/>
/// S; online, for each query a sparse y holding max(q·xᵢ, 0)^γ at its <see cref="QueryNeighbors"/> nearest
/// database items, then f solving (I − αS) f = y by conjugate gradient (at most <see cref="MaxIterations"/> steps,
/// relative tolerance <see cref="Tolerance"/>, the best-residual iterate), and the database ranked by f. Queries
/// are not graph nodes.
/// </summary>
/// <remarks>
/// <para>The query's nearest items are the first entries of its current list (so diffusion can follow query
/// expansion); similarities are recomputed from the vectors. Items f leaves at 0 are ranked after the others by row.</para>
/// <para>Cost per query: up to <see cref="MaxIterations"/> products with S (O(n·k) each), for 16 queries at a time;
/// memory O(n·k) for the graph plus 5 × 16 doubles per database item per thread of work. See
/// <see cref="FastSpectralRanking"/> for the variant whose query cost does not grow with the graph.</para>
/// </remarks>
public sealed class Diffusion : IReranker
{
    private readonly AffinityGraph? _graph;
    private readonly Lock _cacheLock = new();
    private IRerankingDatabase? _cachedSource;
    private AffinityGraph? _cachedGraph;

    /// <summary>Creates a diffusion that builds the graph of each database it meets (and keeps the last one).</summary>
    /// <param name="graphNeighbors">k of the graph (50 in the paper for global descriptors).</param>
    /// <param name="queryNeighbors">kq: nearest database items that seed each query (10 in the paper).</param>
    /// <param name="gamma">γ: affinity exponent (3).</param>
    /// <param name="alpha">α in (0, 1): the diffusion's damping (0.99).</param>
    /// <param name="maxIterations">Conjugate gradient steps at most (20).</param>
    /// <param name="tolerance">Relative residual at which the solve stops (1e-6).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public Diffusion(int graphNeighbors = 50, int queryNeighbors = 10, float gamma = 3f, double alpha = 0.99, int maxIterations = 20, double tolerance = 1e-6)
        : this(null, queryNeighbors, gamma, alpha, maxIterations, tolerance)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(graphNeighbors, 2);
        GraphNeighbors = graphNeighbors;
    }

    /// <summary>Creates a diffusion over a graph built beforehand; it re-ranks lists of that graph's database only.</summary>
    /// <param name="graph">The offline graph.</param>
    /// <param name="queryNeighbors">kq: nearest database items that seed each query (10 in the paper).</param>
    /// <param name="alpha">α in (0, 1): the diffusion's damping (0.99).</param>
    /// <param name="maxIterations">Conjugate gradient steps at most (20).</param>
    /// <param name="tolerance">Relative residual at which the solve stops (1e-6).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public Diffusion(AffinityGraph graph, int queryNeighbors = 10, double alpha = 0.99, int maxIterations = 20, double tolerance = 1e-6)
        : this(graph ?? throw new ArgumentNullException(nameof(graph)), queryNeighbors, graph.Gamma, alpha, maxIterations, tolerance)
    {
        GraphNeighbors = graph.Neighbors;
    }

    private Diffusion(AffinityGraph? graph, int queryNeighbors, float gamma, double alpha, int maxIterations, double tolerance)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryNeighbors);
        if (!(gamma > 0f) || !float.IsFinite(gamma))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a positive, finite number.");
        if (!(alpha > 0 && alpha < 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be strictly between 0 and 1.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxIterations);
        if (!(tolerance > 0 && tolerance < 1))
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be strictly between 0 and 1.");
        _graph = graph;
        QueryNeighbors = queryNeighbors;
        Gamma = gamma;
        Alpha = alpha;
        MaxIterations = maxIterations;
        Tolerance = tolerance;
    }

    /// <summary>k of the graph.</summary>
    public int GraphNeighbors { get; }

    /// <summary>kq: nearest database items that seed each query.</summary>
    public int QueryNeighbors { get; }

    /// <summary>γ: affinity exponent.</summary>
    public float Gamma { get; }

    /// <summary>α: the diffusion's damping.</summary>
    public double Alpha { get; }

    /// <summary>Conjugate gradient steps at most.</summary>
    public int MaxIterations { get; }

    /// <summary>Relative residual at which the solve stops.</summary>
    public double Tolerance { get; }

    /// <inheritdoc />
    public string Name => $"diffusion(k={GraphNeighbors}, kq={QueryNeighbors}, γ={Gamma:G}, α={Alpha:G})";

    /// <summary>Scores are the diffusion values f (larger is better).</summary>
    /// <inheritdoc />
    public RerankingState Rerank(RerankingState state, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        AffinityGraph graph = GraphFor(state.Database, progress, cancellationToken);
        MatrixDatabase database = graph.Database;
        int n = graph.NodeCount, width = state.OutputWidth, queries = state.QueryCount;
        RerankingRows.CheckNeighbors(QueryNeighbors, n, state.Lists.Width, nameof(QueryNeighbors));
        if (width > n)
            throw new ArgumentOutOfRangeException(nameof(state), width, $"OutputWidth = {width} exceeds the {n} vectors of the database.");

        var ids = new long[(long)queries * width];
        var scores = new float[ids.Length];
        var solver = new ConjugateGradientBatch(graph, Alpha);
        const int batch = ConjugateGradientBatch.Columns;
        var rows = new int[QueryNeighbors];
        var candidates = new float[n];
        var keys = new float[width];
        var positions = new long[width];
        for (int first = 0; first < queries; first += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int used = Math.Min(batch, queries - first);
            Span<double> y = solver.RightHandSides;
            y.Clear();
            for (int c = 0; c < used; c++)
            {
                ReadOnlySpan<float> query = state.GetQuery(first + c);
                int count = RerankingRows.ListRows(database, state.Lists, first + c, QueryNeighbors, rows);
                foreach (int row in rows.AsSpan(0, count))
                    y[row * batch + c] = AffinityGraph.Affinity(TensorPrimitives.Dot(query, database.GetRow(row)), Gamma);
            }

            solver.Solve(used, MaxIterations, Tolerance);
            ReadOnlySpan<double> f = solver.Solutions;
            for (int c = 0; c < used; c++)
            {
                for (int i = 0; i < n; i++) candidates[i] = (float)f[i * batch + c];
                int q = first + c;
                RerankingRows.SelectBest(candidates, database.RowIds.Span, ScoreOrder.LargerIsBetter,
                    ids.AsSpan(q * width, width), scores.AsSpan(q * width, width), keys, positions);
            }

            progress?.Report(new RerankingProgress("diffusion", first + used, queries));
        }

        return state with { Database = database, Lists = new RankedLists(queries, width, ids, scores, ScoreOrder.LargerIsBetter) };
    }

    private AffinityGraph GraphFor(IRerankingDatabase database, IProgress<RerankingProgress>? progress, CancellationToken cancellationToken)
    {
        if (_graph is not null)
        {
            if (!ReferenceEquals(database, _graph.Database) && database.Count != _graph.NodeCount)
                throw new ArgumentException($"The state's database holds {database.Count} vectors but the graph was built on {_graph.NodeCount}.", "state");
            return _graph;
        }

        lock (_cacheLock)
        {
            if (!ReferenceEquals(_cachedSource, database) || _cachedGraph is null)
            {
                _cachedGraph = AffinityGraph.Build(database, GraphNeighbors, Gamma, progress, cancellationToken);
                _cachedSource = database;
            }

            return _cachedGraph;
        }
    }
}
