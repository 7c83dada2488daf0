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
/// For <see cref="Metric.Cosine"/> vectors are stored normalised. Searches may run concurrently with each
/// other; adds and removes must not overlap anything else.
/// </remarks>
public sealed class FlatIndex : VectorIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = "Flat";

    private const int Width = PanelKernel.Width;
    private const int GroupRows = PanelKernel.GroupRows;
    private const int MaxQueryBlock = 64 * GroupRows; // queries that share one pass over the stored vectors
    private const int TilePanels = 8;                 // panels per tile: 256 vectors, kept in L2 across a query block
    private const int TileRows = TilePanels * Width;

    // Panels live on the pinned object heap, starting at a 64-byte boundary (_panelStart floats into the array):
    // every 512-bit load of a panel row then touches one cache line instead of two.
    private float[] _panels = [];
    private int _panelStart;
    private float[] _norms = [];
    private readonly RowIds _rows = new();

    /// <summary>Creates an empty exact index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="metric">How vectors are compared.</param>
    public FlatIndex(int dimension, Metric metric = Metric.L2) : base(dimension, metric) { }

    /// <inheritdoc />
    public override long Count => _rows.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override long MemoryUsageBytes =>
        (long)_panels.Length * sizeof(float) + (long)_norms.Length * sizeof(float) + _rows.MemoryUsageBytes;

    /// <summary>True when <paramref name="id"/> is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _rows.Contains(id);

    /// <summary>Copies the stored vector of <paramref name="id"/> (unit length for <see cref="Metric.Cosine"/>), as Faiss's <c>reconstruct</c>.</summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="VectorIndex.Dimension"/> values.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    public void Reconstruct(long id, Span<float> destination)
    {
        CheckDestination(destination);
        int row = _rows.RowOf(id);
        ReadRow(row, destination);
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows) =>
        AddRows(vectors, ids, rows, normalize: true);

    // Loading passes normalize: false because stored cosine vectors are already unit length, and normalising
    // them again would change their last bits and so the results.
    private void AddRows(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows, bool normalize)
    {
        _rows.CheckNew(ids, nameof(ids));
        long newCount = (long)_rows.Count + rows;
        long panelCount = (newCount + Width - 1) / Width;
        if (panelCount > MaxPanels)
            throw new InvalidOperationException($"A flat index of dimension {Dimension} holds at most {MaxPanels * Width} vectors.");

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
                WriteRow(_rows.Append(ids[r]), row);
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
                    ReadRow(last, moved);
                    WriteRow(row, moved);
                }
                moved.Clear();
                WriteRow(last, moved); // padding lanes stay zero
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
                    SearchOne(q, k, outIds, outDistances, options.Filter); // the ann-benchmarks path: no allocation
                    return;
                }
                var (blockSize, blocks) = PlanBlocks(rows, options);
                var job = new TopKJob(this, q, rows, blockSize, k, outIds, outDistances, options.Filter);
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
        var perQuery = new List<(float Key, long Id)>[rows];
        for (int i = 0; i < rows; i++) perQuery[i] = [];
        var (blockSize, blocks) = PlanBlocks(rows, options);
        Func<long, bool>? filter = options.Filter;
        bool similarity = Metric.IsSimilarity();
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(blocks) }, block =>
        {
            int q0 = block * blockSize, qn = Math.Min(blockSize, rows - q0);
            fixed (float* q = &prepared[(long)q0 * Dimension])
            {
                ForEachGroupTile(q, qn, (dots, first, groupRows, t0, tn) =>
                {
                    for (int i = 0; i < groupRows; i++)
                    {
                        var query = prepared.AsSpan((q0 + first + i) * Dimension, Dimension);
                        float queryNorm = similarity ? 0f : Distance.InnerProduct(query, query);
                        var list = perQuery[q0 + first + i];
                        for (int j = 0; j < tn; j++)
                        {
                            float dot = dots[i * TileRows + j];
                            // Stored keys are what top-k sorts by: the distance, or the negated similarity.
                            float key = similarity ? -dot : Math.Max(0f, queryNorm + _norms[t0 + j] - 2f * dot);
                            bool inside = similarity ? dot > radius : key < radius;
                            long id = _rows.Ids[t0 + j];
                            if (inside && (filter is null || filter(id))) list.Add((key, id));
                        }
                    }
                });
            }
        });

        return RangeSearchResult.Concatenate(perQuery, similarity);
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        // Row-major on disk, whatever the in-memory layout.
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        writer.WriteInt64(_rows.Count);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        var row = new float[Dimension];
        for (int r = 0; r < _rows.Count; r++)
        {
            ReadRow(r, row);
            writer.WriteSpan<float>(row);
        }
    }

    internal static FlatIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        long count = reader.ReadInt64("count", 0, Array.MaxLength / dimension);
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        float[] vectors = reader.ReadArray<float>(count * dimension, "vectors");
        var index = new FlatIndex(dimension, metric);
        long largest = -1;
        foreach (long id in ids)
        {
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} is negative or not below the next id {nextId}");
            largest = Math.Max(largest, id);
        }
        try
        {
            if (count > 0) index.AddRows(vectors, ids, (int)count, normalize: false);
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        index.NextId = nextId;
        return index;
    }

    private unsafe void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        int capacity = (int)Math.Max(rows, Math.Max(Width, _rows.Capacity * 2L));
        capacity = (capacity + Width - 1) / Width * Width;
        capacity = (int)Math.Min(capacity, MaxPanels * Width);
        long panelFloats = capacity / Width * PanelKernel.PanelSize(Dimension);
        float[] panels = GC.AllocateArray<float>((int)panelFloats + CacheLineFloats, pinned: true);
        int start = CacheLineFloats - (int)((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(panels)) % 64 / sizeof(float));
        start %= CacheLineFloats;
        if (_panels.Length > 0)
            _panels.AsSpan(_panelStart, _panels.Length - CacheLineFloats).CopyTo(panels.AsSpan(start));
        _panels = panels;
        _panelStart = start;
        Array.Resize(ref _norms, capacity);
        _rows.Resize(capacity);
    }

    private const int CacheLineFloats = 64 / sizeof(float);

    private long MaxPanels => (Array.MaxLength - CacheLineFloats) / PanelKernel.PanelSize(Dimension);

    private long PanelStart(int row) => _panelStart + row / Width * PanelKernel.PanelSize(Dimension) + row % Width;

    private static unsafe float* AlignToCacheLine(float* p) => (float*)(((nuint)p + 63) & ~(nuint)63);

    // The panels never move (pinned object heap), so their address stays valid while the index holds them.
    private unsafe float* PanelBase => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_panels)) + _panelStart;

    private void WriteRow(int row, ReadOnlySpan<float> values)
    {
        long at = PanelStart(row);
        for (int t = 0; t < Dimension; t++, at += Width) _panels[at] = values[t];
        _norms[row] = Distance.InnerProduct(values, values);
    }

    private void ReadRow(int row, Span<float> destination)
    {
        long at = PanelStart(row);
        for (int t = 0; t < Dimension; t++, at += Width) destination[t] = _panels[at];
    }

    private unsafe delegate void GroupTileAction(float* dots, int firstQuery, int queryRows, int firstRow, int rowCount);

    // Splits a batch into query blocks: large enough that a block amortises each pass over the stored vectors,
    // and at least one per thread.
    private static (int BlockSize, int Blocks) PlanBlocks(int rows, SearchOptions options)
    {
        int threads = options.ResolveThreads(rows);
        int blockSize = (rows + threads - 1) / threads;
        blockSize = Math.Min(MaxQueryBlock, (blockSize + GroupRows - 1) / GroupRows * GroupRows);
        return (blockSize, (rows + blockSize - 1) / blockSize);
    }

    // For each tile of TileRows stored vectors, and within it each group of 8 queries, computes
    // dots[i · TileRows + j] = q_(firstQuery + i) · x_(firstRow + j) and hands the 8 × TileRows block to the action
    // while it is still in L1. Padding lanes past the last vector are zero.
    private unsafe void ForEachGroupTile(float* queries, int queryCount, GroupTileAction action)
    {
        int groups = (queryCount + GroupRows - 1) / GroupRows;
        long panelSize = PanelKernel.PanelSize(Dimension);
        float[] packed = ArrayPool<float>.Shared.Rent(groups * GroupRows * Dimension);
        float* unaligned = stackalloc float[GroupRows * TileRows + CacheLineFloats];
        float* dots = AlignToCacheLine(unaligned);
        try
        {
            fixed (float* a = packed)
            {
                float* panels = PanelBase;
                for (int g = 0; g < groups; g++)
                    PanelKernel.PackGroup(queries + (long)g * GroupRows * Dimension, Math.Min(GroupRows, queryCount - g * GroupRows), Dimension, a + (long)g * GroupRows * Dimension);
                for (int t0 = 0; t0 < _rows.Count; t0 += TileRows)
                {
                    int tn = Math.Min(TileRows, _rows.Count - t0);
                    int tilePanels = (tn + Width - 1) / Width;
                    float* tile = panels + t0 / Width * panelSize;
                    for (int g = 0; g < groups; g++)
                    {
                        float* group = a + (long)g * GroupRows * Dimension;
                        for (int p = 0; p < tilePanels; p++)
                            PanelKernel.GroupTimesPanel(group, tile + p * panelSize, Dimension, dots + p * Width, TileRows);
                        action(dots, g * GroupRows, Math.Min(GroupRows, queryCount - g * GroupRows), t0, tn);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    private unsafe void SearchOne(float* query, int k, long* ids, float* distances, Func<long, bool>? filter)
    {
        long panelSize = PanelKernel.PanelSize(Dimension);
        bool similarity = Metric.IsSimilarity();
        float* dots = stackalloc float[Width];
        var heap = new TopKHeap(new Span<float>(distances, k), new Span<long>(ids, k));
        float* panels = PanelBase;
        fixed (float* norms = _norms)
        fixed (long* storedIds = _rows.Ids)
        {
            for (int first = 0; first < _rows.Count; first += Width)
            {
                PanelKernel.QueryTimesPanel(query, panels + first / Width * panelSize, Dimension, dots);
                Offer(ref heap, dots, norms + first, storedIds + first, Math.Min(Width, _rows.Count - first), similarity, filter);
            }
        }
        FinishQuery(heap, query, distances, similarity);
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
            fixed (float* norms = index._norms)
            fixed (long* storedIds = index._rows.Ids)
            {
                float* n = norms;
                long* s = storedIds;
                index.ForEachGroupTile(queries + (long)q0 * index.Dimension, qn, (dots, first, groupRows, t0, tn) =>
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
