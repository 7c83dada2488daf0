using System.Numerics.Tensors;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// The offline part of diffusion (Iscen, Tolias, Avrithis, Furon and Chum, CVPR 2017) and of fast spectral ranking:
/// the mutual k-nearest-neighbour graph of the database, with affinities max(xᵢ·xⱼ, 0)^γ, symmetrically normalised
/// to S = D^(−1/2) W D^(−1/2) (D the row sums of W), as the authors' <c>knngraph.m</c> and <c>transition_matrix.m</c>
/// build it. Each node's k nearest neighbours include itself, so an edge needs each end among the other's k − 1
/// nearest others; self-loops are dropped. A node without mutual neighbours has an empty row.
/// </summary>
/// <remarks>
/// <para>The neighbours come from the database's search, so the graph costs one k-NN search per database vector: exact
/// and quadratic with a <see cref="MatrixDatabase"/>, sub-quadratic with an approximate index (the paper uses an
/// approximate graph at large scale). Memory is O(n·k).</para>
/// <para>The reference computes max(s, 0) after raising to γ; for an even γ it keeps (−s)^γ of a negative similarity,
/// which this graph (like the paper) zeroes. With the default γ = 3 the two agree.</para>
/// </remarks>
public sealed class AffinityGraph
{
    private const int SearchBatch = 2048;

    private AffinityGraph(MatrixDatabase database, int neighbors, float gamma, int[] rowStart, int[] columns, double[] values)
    {
        Database = database;
        Neighbors = neighbors;
        Gamma = gamma;
        RowStart = rowStart;
        Columns = columns;
        Values = values;
    }

    /// <summary>The database whose vectors are the nodes (row i of the graph is row i of this database).</summary>
    public MatrixDatabase Database { get; }

    /// <summary>k: the neighbourhood size the graph was built with (counting each node itself).</summary>
    public int Neighbors { get; }

    /// <summary>γ: the exponent of the affinities.</summary>
    public float Gamma { get; }

    /// <summary>Number of nodes.</summary>
    public int NodeCount => RowStart.Length - 1;

    /// <summary>Number of stored non-zeros of S (each undirected edge counts twice).</summary>
    public long EdgeCount => Columns.Length;

    /// <summary>Bytes held by the normalised affinity matrix.</summary>
    public long MemoryUsageBytes => (long)RowStart.Length * sizeof(int) + (long)Columns.Length * (sizeof(int) + sizeof(double));

    // S in compressed sparse rows, columns ascending within a row.
    internal int[] RowStart { get; }

    internal int[] Columns { get; }

    internal double[] Values { get; }

    /// <summary>Builds the graph of a database.</summary>
    /// <param name="database">The database; its search finds the neighbours.</param>
    /// <param name="neighbors">k: nearest neighbours per node, itself included (the paper uses 50 for global descriptors); at least 2.</param>
    /// <param name="gamma">γ &gt; 0: the exponent of the affinities (3 in the paper).</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="ArgumentOutOfRangeException">k is below 2 or above the database size, or γ is not positive and finite.</exception>
    public static AffinityGraph Build(IRerankingDatabase database, int neighbors = 50, float gamma = 3f,
        IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentOutOfRangeException.ThrowIfLessThan(neighbors, 2);
        if (!(gamma > 0f) || !float.IsFinite(gamma))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a positive, finite number.");
        MatrixDatabase matrix = MatrixDatabase.From(database);
        int n = matrix.RowCount, d = matrix.Dimension;
        if (neighbors > n)
            throw new ArgumentOutOfRangeException(nameof(neighbors), neighbors, $"neighbors = {neighbors} exceeds the {n} vectors of the database.");

        // Row i: the rows of i's k nearest neighbours, sorted, and their weights in the same order.
        var lists = new int[(long)n * neighbors];
        var weights = new float[lists.Length];
        var counts = new int[n];
        var ids = new long[(long)Math.Min(SearchBatch, n) * neighbors];
        var distances = new float[ids.Length];
        for (int first = 0; first < n; first += SearchBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int batch = Math.Min(SearchBatch, n - first);
            database.Search(matrix.Vectors.Span.Slice(first * d, batch * d), neighbors, ids.AsSpan(0, batch * neighbors), distances.AsSpan(0, batch * neighbors));
            for (int r = 0; r < batch; r++)
            {
                int row = first + r, count = 0;
                Span<int> list = lists.AsSpan(row * neighbors, neighbors);
                Span<float> weight = weights.AsSpan(row * neighbors, neighbors);
                foreach (long id in ids.AsSpan(r * neighbors, neighbors))
                {
                    if (id == SearchResult.MissingId) continue;
                    int column = matrix.RowOf(id);
                    if (column < 0) throw new InvalidDataException($"The database search returned id {id}, which it does not enumerate.");
                    list[count] = column;
                    weight[count++] = Affinity(TensorPrimitives.Dot(matrix.GetRow(row), matrix.GetRow(column)), gamma);
                }

                list[count..].Fill(int.MaxValue);
                list[..count].Sort(weight[..count]);
                counts[row] = count;
            }

            progress?.Report(new RerankingProgress("k-NN graph", first + batch, n));
        }

        return Normalize(matrix, neighbors, gamma, lists, weights, counts);
    }

    /// <summary>max(s, 0)^γ.</summary>
    internal static float Affinity(float similarity, float gamma) => similarity > 0f ? MathF.Pow(similarity, gamma) : 0f;

    /// <summary>y = S x for one vector.</summary>
    internal void Multiply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < NodeCount; i++)
        {
            double sum = 0;
            for (int e = RowStart[i]; e < RowStart[i + 1]; e++) sum += Values[e] * x[Columns[e]];
            y[i] = sum;
        }
    }

    private static AffinityGraph Normalize(MatrixDatabase matrix, int k, float gamma, int[] lists, float[] weights, int[] counts)
    {
        int n = matrix.RowCount;
        // Mutual edges only: j is kept in i's row when i is in j's list; both directions get the same weight.
        var rowStart = new int[n + 1];
        var keep = new bool[lists.Length];
        for (int i = 0; i < n; i++)
        {
            int kept = 0;
            for (int e = 0; e < counts[i]; e++)
            {
                int j = lists[i * k + e];
                if (j != i && lists.AsSpan(j * k, counts[j]).BinarySearch(i) >= 0 && weights[i * k + e] != 0f)
                {
                    keep[i * k + e] = true;
                    kept++;
                }
            }

            rowStart[i + 1] = rowStart[i] + kept;
        }

        var columns = new int[rowStart[n]];
        var values = new double[rowStart[n]];
        var degree = new double[n];
        for (int i = 0; i < n; i++)
        {
            int at = rowStart[i];
            for (int e = 0; e < counts[i]; e++)
            {
                if (!keep[i * k + e]) continue;
                columns[at] = lists[i * k + e];
                values[at] = weights[i * k + e];
                degree[i] += values[at];
                at++;
            }
        }

        // S = D^(-1/2) W D^(-1/2); an isolated node keeps an empty row (the reference's Inf never meets a non-zero).
        var scale = new double[n];
        for (int i = 0; i < n; i++) scale[i] = degree[i] > 0 ? Math.Pow(degree[i], -0.5) : 0.0;
        for (int i = 0; i < n; i++)
            for (int e = rowStart[i]; e < rowStart[i + 1]; e++) values[e] = scale[i] * values[e] * scale[columns[e]];
        return new AffinityGraph(matrix, k, gamma, rowStart, columns, values);
    }
}
