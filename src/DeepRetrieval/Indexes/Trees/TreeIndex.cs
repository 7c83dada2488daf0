using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Trees;

/// <summary>
/// Base of the space-partitioning tree indexes, <see cref="KdTreeIndex"/> and <see cref="RandomProjectionForestIndex"/>:
/// it owns the raw vectors (one row-major array, rows in insertion order, compacted on removal) and their ids, appends
/// new rows and rebuilds the tree once enough of them are not yet indexed, and runs searches query by query. Rows past
/// <see cref="IndexedCount"/> are scanned exhaustively until the next rebuild.
/// </summary>
public abstract class TreeIndex : VectorIndex
{
    private protected float[] _vectors = [];
    private protected RowIds _rows = new(); // replaced whole when the KD-tree reorders rows into leaf order
    private protected int _indexedRows;

    private protected TreeIndex(int dimension, Metric metric, int leafSize) : base(dimension, metric) => LeafSize = leafSize;

    /// <summary>The most points a leaf holds (unless they are all equal).</summary>
    public int LeafSize { get; }

    /// <summary>Rows covered by the tree; rows added since the last <see cref="Build"/> are scanned exhaustively.</summary>
    public int IndexedCount => _indexedRows;

    /// <inheritdoc />
    public override long Count => _rows.Count;

    /// <summary>Exact: the stored vector (unit length for <see cref="Metric.Cosine"/>).</summary>
    public override ReconstructionKind Reconstruction => ReconstructionKind.Exact;

    /// <inheritdoc />
    public override bool Contains(long id) => _rows.Contains(id);

    /// <inheritdoc />
    public override long[] GetIds() => _rows.Snapshot();

    /// <summary>Rebuilds the tree (or forest) over every stored vector.</summary>
    public abstract void Build();

    /// <summary>Bytes of the stored vectors and ids.</summary>
    private protected long StorageBytes => (long)_vectors.Length * sizeof(float) + _rows.MemoryUsageBytes;

    /// <inheritdoc />
    protected override void ReconstructCore(long id, Span<float> destination) =>
        _vectors.AsSpan(_rows.RowOf(id) * Dimension, Dimension).CopyTo(destination);

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        _rows.CheckNew(ids, nameof(ids));
        long newCount = (long)_rows.Count + rows;
        if (newCount * Dimension > Array.MaxLength)
            throw new InvalidOperationException($"A {Kind} index of dimension {Dimension} holds at most {Array.MaxLength / Dimension} vectors.");
        float[]? normalized = null;
        if (Metric == Metric.Cosine)
        {
            // Normalise a copy first, so a zero row leaves the index as it was.
            normalized = vectors.ToArray();
            NormalizeForCosine(normalized, nameof(vectors));
            vectors = normalized;
        }
        EnsureCapacity((int)newCount);
        for (int r = 0; r < rows; r++)
            vectors.Slice(r * Dimension, Dimension).CopyTo(_vectors.AsSpan(_rows.Append(ids[r]) * Dimension, Dimension));
        if (_rows.Count - _indexedRows > Math.Max(2 * LeafSize, _indexedRows / 32))
            Build();
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids)
    {
        int removed = _rows.RemoveCompacting(ids, _vectors, Dimension);
        // Leaves name rows, and rows moved: rebuild over what is left.
        Build();
        return removed;
    }

    /// <summary>The per-search budget (leaves to visit, candidates to check) the options ask for, or the index's default.</summary>
    private protected abstract int ResolveBudget(SearchOptions options, int k);

    /// <summary>Finds the nearest stored vectors to one prepared query within the budget.</summary>
    private protected abstract void SearchOne(ReadOnlySpan<float> query, Span<long> ids, Span<float> distances, int budget, Func<long, bool>? filter);

    /// <inheritdoc />
    protected override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        int budget = ResolveBudget(options, k);
        Func<long, bool>? filter = options.Predicate;
        int threads = options.ResolveThreads(rows);
        if (rows == 1 || threads == 1)
        {
            float[]? pooled = null;
            try
            {
                ReadOnlySpan<float> prepared = PrepareQueries(queries, out pooled);
                for (int q = 0; q < rows; q++)
                    SearchOne(prepared.Slice(q * Dimension, Dimension), ids.Slice(q * k, k), distances.Slice(q * k, k), budget, filter);
            }
            finally
            {
                ReturnPooled(pooled);
            }
            return;
        }

        float[] batch = queries.ToArray();
        NormalizeForCosine(batch, nameof(queries));
        SearchInParallel(batch, rows, k, ids, distances, budget, filter, threads);
    }

    // Kept apart from SearchCore so its closure is allocated only for parallel batches, not per single query.
    private void SearchInParallel(float[] batch, int rows, int k, Span<long> ids, Span<float> distances, int budget, Func<long, bool>? filter, int threads)
    {
        // Parallel bodies cannot capture spans, so the batch goes through arrays and is copied back.
        var outIds = new long[ids.Length];
        var outDistances = new float[distances.Length];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, q =>
            SearchOne(batch.AsSpan(q * Dimension, Dimension), outIds.AsSpan(q * k, k), outDistances.AsSpan(q * k, k), budget, filter));
        outIds.CopyTo(ids);
        outDistances.CopyTo(distances);
    }

    /// <summary>Installs rows read from a file: checks the ids are unique, then copies ids and vectors.</summary>
    private protected void LoadRows(IndexPayloadReader reader, long[] ids, float[] vectors, int indexed)
    {
        try
        {
            _rows.CheckNew(ids, nameof(ids));
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        EnsureCapacity(ids.Length);
        foreach (long id in ids) _rows.Append(id);
        vectors.CopyTo(_vectors, 0);
        _indexedRows = indexed;
    }

    private void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        int capacity = _rows.Capacity == 0 ? rows : (int)Math.Max(rows, Math.Min(_rows.Capacity * 2L, Array.MaxLength / Dimension));
        Array.Resize(ref _vectors, capacity * Dimension);
        _rows.Resize(capacity);
    }
}
