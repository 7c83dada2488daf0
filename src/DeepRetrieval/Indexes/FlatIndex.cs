using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Runtime.Intrinsics;
using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Exact search over raw vectors (Faiss <c>IndexFlat</c>). Vectors are stored in panels of 32 interleaved
/// vectors so that distances are computed as register-blocked outer products, a group of 8 queries against a
/// panel of 32 vectors at a time, using <c>‖q − x‖² = ‖q‖² − 2 q·x + ‖x‖²</c> with precomputed norms: a batch
/// runs at matrix-multiply speed. Query blocks run in parallel; top-k selection writes straight into the
/// caller's buffers and allocates nothing per query.
/// </summary>
/// <remarks>
/// Equal distances are ordered by ascending id, so duplicate vectors come back in id order. Searching an empty
/// index returns only missing neighbours (id −1, distance NaN). Removing moves the last vector into the hole.
/// For <see cref="Metric.Cosine"/> vectors are stored normalised. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other; adds and removes must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).
/// </remarks>
public sealed class FlatIndex : VectorIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = IndexKinds.Flat;

    private const int Width = PanelKernel.Width;
    private const int GroupRows = PanelKernel.GroupRows;
    private const int MaxQueryBlock = 64 * GroupRows; // queries that share one pass over the stored vectors
    private const int TileRows = PanelMatrix.TileRows;

    private readonly PanelMatrix _matrix;
    private readonly RowIds _rows = new();

    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = c => c.Token == KindName ? new FlatIndex(c.Dimension, c.FloatMetric) : null,
        FactorySyntax = KindName,
    };

    /// <summary>Creates an empty exact index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="metric">How vectors are compared.</param>
    public FlatIndex(int dimension, Metric metric = Metric.L2) : base(dimension, metric) => _matrix = new PanelMatrix(dimension);

    /// <inheritdoc />
    public override long Count => _rows.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override long MemoryUsageBytes => _matrix.MemoryUsageBytes + _rows.MemoryUsageBytes;

    /// <summary>Exact: the stored vector (unit length for <see cref="Metric.Cosine"/>).</summary>
    public override ReconstructionKind Reconstruction => ReconstructionKind.Exact;

    /// <inheritdoc />
    public override bool Contains(long id) => _rows.Contains(id);

    /// <inheritdoc />
    public override long[] GetIds() => _rows.Snapshot();

    /// <inheritdoc />
    protected override void ReconstructCore(long id, Span<float> destination) => _matrix.ReadRow(_rows.RowOf(id), destination);

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows) =>
        AddRows(vectors, ids, rows, normalize: true);

    // Loading passes normalize: false because stored cosine vectors are already unit length, and normalising
    // them again would change their last bits and so the results.
    private void AddRows(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows, bool normalize)
    {
        _rows.CheckNew(ids, nameof(ids));
        long newCount = (long)_rows.Count + rows;
        if (newCount > _matrix.MaxRows)
            throw new InvalidOperationException($"A flat index of dimension {Dimension} holds at most {_matrix.MaxRows} vectors.");

        float[] scratch = ArrayPool<float>.Shared.Rent(Dimension);
        try
        {
            Span<float> row = scratch.AsSpan(0, Dimension);
            if (normalize && Metric == Metric.Cosine)
            {
                // Check every row before changing anything, so a zero vector leaves the index as it was.
                for (int r = 0; r < rows; r++)
                {
                    vectors.Slice(r * Dimension, Dimension).CopyTo(row);
                    NormalizeForCosine(row, nameof(vectors));
                }
            }
            EnsureCapacity((int)newCount);
            for (int r = 0; r < rows; r++)
            {
                vectors.Slice(r * Dimension, Dimension).CopyTo(row);
                if (normalize) NormalizeForCosine(row, nameof(vectors));
                _matrix.WriteRow(_rows.Append(ids[r]), row);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids)
    {
        _rows.CheckPresent(ids);
        float[] scratch = ArrayPool<float>.Shared.Rent(Dimension);
        try
        {
            Span<float> moved = scratch.AsSpan(0, Dimension);
            int removed = 0;
            foreach (long id in ids)
            {
                if (!_rows.Remove(id, out int row, out int last)) continue; // listed twice
                if (row != last)
                {
                    _matrix.ReadRow(last, moved);
                    _matrix.WriteRow(row, moved);
                }
                moved.Clear();
                _matrix.WriteRow(last, moved); // padding lanes stay zero
                removed++;
            }
            return removed;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <inheritdoc />
    protected override unsafe void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        queries = PrepareQueries(queries, out float[]? normalized);
        try
        {
            fixed (float* q = queries)
            fixed (long* outIds = ids)
            fixed (float* outDistances = distances)
            {
                if (rows == 1)
                {
                    SearchOne(q, k, outIds, outDistances, options.Predicate); // the ann-benchmarks path: no allocation
                    return;
                }
                var (blockSize, blocks) = PlanBlocks(rows, options);
                var job = new TopKJob(this, q, rows, blockSize, k, outIds, outDistances, options.Predicate);
                if (blocks == 1)
                    job.RunBlock(0);
                else
                    Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(blocks) }, job.RunBlock);
            }
        }
        finally
        {
            ReturnPooled(normalized);
        }
    }

    /// <inheritdoc />
    protected override unsafe RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        bool similarity = Metric.IsSimilarity();
        var perQuery = new RangeHits[rows];
        for (int i = 0; i < rows; i++) perQuery[i] = new RangeHits(radius, similarity, options.Predicate);
        var (blockSize, blocks) = PlanBlocks(rows, options);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(blocks) }, block =>
        {
            int q0 = block * blockSize, qn = Math.Min(blockSize, rows - q0);
            fixed (float* q = &prepared[(long)q0 * Dimension])
            {
                float[] norms = _matrix.Norms;
                _matrix.ForEachGroupTile(q, qn, _rows.Count, (dots, first, groupRows, t0, tn) =>
                {
                    for (int i = 0; i < groupRows; i++)
                    {
                        var query = prepared.AsSpan((q0 + first + i) * Dimension, Dimension);
                        float queryNorm = similarity ? 0f : Distance.InnerProduct(query, query);
                        RangeHits hits = perQuery[q0 + first + i];
                        for (int j = 0; j < tn; j++)
                        {
                            float dot = dots[i * TileRows + j];
                            // Stored keys are what top-k sorts by: the distance, or the negated similarity.
                            hits.Offer(similarity ? -dot : Math.Max(0f, queryNorm + norms[t0 + j] - 2f * dot), _rows.Ids[t0 + j]);
                        }
                    }
                });
            }
        });

        return RangeHits.Pack(perQuery, similarity);
    }

    /// <inheritdoc />
    protected override unsafe void WritePayload(IndexPayloadWriter writer)
    {
        // From format version 2, the panels as they are in memory (32 interleaved rows each, zero padding lanes) and their
        // norms, so a mapped file is searched in place; version 1 files hold the rows row-major.
        int count = _rows.Count;
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        writer.WriteInt64(count);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, count));
        writer.WriteAligned(new ReadOnlySpan<float>(_matrix.PanelBase, checked((int)_matrix.PanelFloats(count))));
        writer.WriteSpan<float>(_matrix.Norms.AsSpan(0, PanelRows(count)));
    }

    internal static unsafe FlatIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        var index = new FlatIndex(dimension, metric);
        int count = (int)reader.ReadInt64("count", 0, Math.Min(Array.MaxLength / dimension, index._matrix.MaxRows));
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        foreach (long id in ids)
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} is negative or not below the next id {nextId}");
        index.NextId = nextId;
        if (reader.FormatVersion < IndexFileFormat.FirstAlignedVersion)
        {
            float[] vectors = reader.ReadArray<float>((long)count * dimension, "vectors");
            index.AddLoadedRows(reader, vectors, ids, count);
            return index;
        }
        long panelFloats = index._matrix.PanelFloats(count);
        if (reader.Mapping is not null)
        {
            // The panels stay in the file; the ids and norms (12 bytes a row) are read, the id → row map built on first use.
            float* panels = reader.MapAligned<float>(panelFloats, "vector panels");
            index._matrix.UseMapped(panels, reader.ReadArray<float>(PanelRows(count), "norms"));
            index._rows.LoadDeferred(ids);
            return index;
        }
        float[] loaded = reader.ReadAlignedArray<float>(panelFloats, "vector panels");
        float[] norms = reader.ReadArray<float>(PanelRows(count), "norms");
        try
        {
            index._rows.CheckNew(ids, "ids");
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        index.EnsureCapacity(count);
        foreach (long id in ids) index._rows.Append(id);
        index._matrix.LoadPanels(loaded, norms);
        return index;
    }

    // Version 1: row-major vectors, added as rows (their norms computed again).
    private void AddLoadedRows(IndexPayloadReader reader, float[] vectors, long[] ids, int count)
    {
        try
        {
            if (count > 0) AddRows(vectors, ids, count, normalize: false);
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
    }

    // Rows in the whole panels that hold `count` rows.
    private static int PanelRows(int count) => (count + Width - 1) / Width * Width;

    private void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        _rows.Resize(_matrix.EnsureCapacity(rows));
    }

    // Splits a batch into query blocks: large enough that a block amortises each pass over the stored vectors,
    // and at least one per thread.
    private static (int BlockSize, int Blocks) PlanBlocks(int rows, SearchOptions options)
    {
        int threads = options.ResolveThreads(rows);
        int blockSize = (rows + threads - 1) / threads;
        blockSize = Math.Min(MaxQueryBlock, (blockSize + GroupRows - 1) / GroupRows * GroupRows);
        return (blockSize, (rows + blockSize - 1) / blockSize);
    }

    private unsafe void SearchOne(float* query, int k, long* ids, float* distances, Func<long, bool>? filter)
    {
        long panelSize = _matrix.PanelSize;
        bool similarity = Metric.IsSimilarity();
        float* dots = stackalloc float[Width];
        var heap = new TopKHeap(new Span<float>(distances, k), new Span<long>(ids, k));
        float* panels = _matrix.PanelBase;
        fixed (float* norms = _matrix.Norms)
        fixed (long* storedIds = _rows.Ids)
        {
            for (int first = 0; first < _rows.Count; first += Width)
            {
                // A panel whose rows the filter all rejects is skipped before its distances are computed.
                if (filter is not null && !AnyAllowed(storedIds + first, Math.Min(Width, _rows.Count - first), filter)) continue;
                PanelKernel.QueryTimesPanel(query, panels + first / Width * panelSize, Dimension, dots);
                Offer(ref heap, dots, norms + first, storedIds + first, Math.Min(Width, _rows.Count - first), similarity, filter);
            }
        }
        FinishQuery(heap, query, distances, similarity);
    }

    private static unsafe bool AnyAllowed(long* ids, int count, Func<long, bool> filter)
    {
        for (int j = 0; j < count; j++)
            if (filter(ids[j])) return true;
        return false;
    }

    // Keys: ‖x‖² − 2q·x for L2 (‖q‖² is added in FinishQuery), −q·x for similarities; smaller is better. Sixteen
    // keys are compared with the heap's threshold at once; only the few that pass reach the heap.
    private static unsafe void Offer(ref TopKHeap heap, float* dots, float* norms, long* ids, int count, bool similarity, Func<long, bool>? filter)
    {
        float* keys = stackalloc float[16];
        for (int j = 0; j < count; j += 16)
        {
            int lanes = Math.Min(16, count - j);
            Vector512<float> dot = Vector512.Load(dots + j); // dots rows are TileRows or Width long: always 16 readable lanes
            Vector512<float> key = similarity ? -dot : Vector512.Load(norms + j) - (dot + dot);
            ulong pass = Vector512.LessThanOrEqual(key, Vector512.Create(heap.Threshold)).ExtractMostSignificantBits();
            pass &= (1UL << lanes) - 1;
            if (pass == 0) continue;
            key.Store(keys);
            do
            {
                int lane = BitOperations.TrailingZeroCount(pass);
                pass &= pass - 1;
                long id = ids[j + lane];
                if (filter is null || filter(id)) heap.Push(keys[lane], id);
            }
            while (pass != 0);
        }
    }

    private unsafe void FinishQuery(TopKHeap heap, float* query, float* distances, bool similarity)
    {
        int found = heap.SortAndPad();
        if (similarity)
        {
            for (int j = 0; j < found; j++) distances[j] = -distances[j];
            return;
        }
        var q = new ReadOnlySpan<float>(query, Dimension);
        float queryNorm = Distance.InnerProduct(q, q);
        for (int j = 0; j < found; j++) distances[j] = Math.Max(0f, distances[j] + queryNorm);
    }

    // Holds the raw pointers a parallel block needs; the caller pins them for the whole search. The caller's
    // result rows double as heap storage, so selection allocates nothing.
    private sealed unsafe class TopKJob(FlatIndex index, float* queries, int rows, int blockSize, int k, long* ids, float* distances, Func<long, bool>? filter)
    {
        public void RunBlock(int block)
        {
            int q0 = block * blockSize, qn = Math.Min(blockSize, rows - q0);
            bool similarity = index.Metric.IsSimilarity();
            int* counts = stackalloc int[qn];
            fixed (float* norms = index._matrix.Norms)
            fixed (long* storedIds = index._rows.Ids)
            {
                float* n = norms;
                long* s = storedIds;
                index._matrix.ForEachGroupTile(queries + (long)q0 * index.Dimension, qn, index._rows.Count, (dots, first, groupRows, t0, tn) =>
                {
                    for (int i = 0; i < groupRows; i++)
                    {
                        int query = first + i;
                        var heap = HeapOf(q0 + query, counts[query]);
                        Offer(ref heap, dots + i * TileRows, n + t0, s + t0, tn, similarity, filter);
                        counts[query] = heap.Count;
                    }
                });
            }
            for (int i = 0; i < qn; i++)
                index.FinishQuery(HeapOf(q0 + i, counts[i]), queries + (long)(q0 + i) * index.Dimension, distances + (long)(q0 + i) * k, similarity);
        }

        private TopKHeap HeapOf(int query, int count) =>
            new(new Span<float>(distances + (long)query * k, k), new Span<long>(ids + (long)query * k, k), count);
    }
}
