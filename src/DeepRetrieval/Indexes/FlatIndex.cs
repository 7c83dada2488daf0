using System.Buffers;
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
    private const int QueryBlock = 16 * GroupRows; // queries that share one pass over the stored vectors
    private const int TilePanels = 8;              // panels per tile: 256 vectors, kept in L2 across a query block
    private const int TileRows = TilePanels * Width;

    private float[] _panels = [];
    private float[] _norms = [];
    private long[] _ids = [];
    private readonly Dictionary<long, int> _rowOf = [];
    private int _count;

    /// <summary>Creates an empty exact index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="metric">How vectors are compared.</param>
    public FlatIndex(int dimension, Metric metric = Metric.L2) : base(dimension, metric) { }

    /// <inheritdoc />
    public override long Count => _count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override long MemoryUsageBytes =>
        (long)_panels.Length * sizeof(float) + (long)_norms.Length * sizeof(float) + (long)_ids.Length * sizeof(long)
        + _rowOf.Count * 24L; // dictionary entry: key, value, hash code, next link

    /// <summary>True when <paramref name="id"/> is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _rowOf.ContainsKey(id);

    /// <summary>Copies the stored vector of <paramref name="id"/> (unit length for <see cref="Metric.Cosine"/>), as Faiss's <c>reconstruct</c>.</summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="VectorIndex.Dimension"/> values.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    public void Reconstruct(long id, Span<float> destination)
    {
        if (destination.Length != Dimension)
            throw new ArgumentException($"The destination must hold {Dimension} values; got {destination.Length}.", nameof(destination));
        if (!_rowOf.TryGetValue(id, out int row))
            throw new KeyNotFoundException($"Id {id} is not in the index.");
        ReadRow(row, destination);
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows) =>
        AddRows(vectors, ids, rows, normalize: true);

    // Loading passes normalize: false because stored cosine vectors are already unit length, and normalising
    // them again would change their last bits and so the results.
    private void AddRows(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows, bool normalize)
    {
        var seen = new HashSet<long>(rows);
        foreach (long id in ids)
        {
            if (!seen.Add(id)) throw new ArgumentException($"Id {id} appears twice in the batch; ids must be unique.", nameof(ids));
            if (_rowOf.ContainsKey(id)) throw new ArgumentException($"Id {id} is already in the index; remove it first to replace its vector.", nameof(ids));
        }
        long newCount = (long)_count + rows;
        long panelCount = (newCount + Width - 1) / Width;
        if (panelCount * PanelKernel.PanelSize(Dimension) > Array.MaxLength)
            throw new InvalidOperationException($"A flat index of dimension {Dimension} holds at most {Array.MaxLength / PanelKernel.PanelSize(Dimension) * Width} vectors.");

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
                WriteRow(_count, row);
                _ids[_count] = ids[r];
                _rowOf[ids[r]] = _count;
                _count++;
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
        foreach (long id in ids)
            if (!_rowOf.ContainsKey(id))
                throw new KeyNotFoundException($"Id {id} is not in the index; nothing was removed.");
        float[] scratch = ArrayPool<float>.Shared.Rent(Dimension);
        try
        {
            Span<float> moved = scratch.AsSpan(0, Dimension);
            int removed = 0;
            foreach (long id in ids)
            {
                if (!_rowOf.Remove(id, out int row)) continue; // listed twice
                int last = _count - 1;
                if (row != last)
                {
                    ReadRow(last, moved);
                    WriteRow(row, moved);
                    _ids[row] = _ids[last];
                    _rowOf[_ids[row]] = row;
                }
                moved.Clear();
                WriteRow(last, moved); // padding lanes stay zero
                _count--;
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
        float[]? normalized = null;
        if (Metric == Metric.Cosine)
        {
            normalized = ArrayPool<float>.Shared.Rent(queries.Length);
            queries.CopyTo(normalized);
            NormalizeForCosine(normalized.AsSpan(0, queries.Length), nameof(queries));
            queries = normalized.AsSpan(0, queries.Length);
        }
        try
        {
            fixed (float* q = queries)
            fixed (long* outIds = ids)
            fixed (float* outDistances = distances)
            {
                var job = new TopKJob(this, q, rows, k, outIds, outDistances, options.Filter);
                if (rows == 1)
                {
                    job.RunSingle();
                    return;
                }
                int blocks = (rows + QueryBlock - 1) / QueryBlock;
                int threads = options.ResolveThreads(blocks);
                if (threads == 1)
                    for (int b = 0; b < blocks; b++) job.RunBlock(b);
                else
                    Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, job.RunBlock);
            }
        }
        finally
        {
            if (normalized is not null) ArrayPool<float>.Shared.Return(normalized);
        }
    }

    /// <inheritdoc />
    protected override unsafe RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        var perQuery = new List<(float Key, long Id)>[rows];
        int blocks = (rows + QueryBlock - 1) / QueryBlock;
        Func<long, bool>? filter = options.Filter;
        bool similarity = Metric.IsSimilarity();
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(blocks) }, block =>
        {
            int q0 = block * QueryBlock, qn = Math.Min(QueryBlock, rows - q0);
            for (int i = 0; i < qn; i++) perQuery[q0 + i] = [];
            fixed (float* q = &prepared[(long)q0 * Dimension])
            {
                ForEachTile(q, qn, (dots, t0, tn) =>
                {
                    for (int i = 0; i < qn; i++)
                    {
                        float queryNorm = similarity ? 0f : Distance.InnerProduct(prepared.AsSpan((q0 + i) * Dimension, Dimension), prepared.AsSpan((q0 + i) * Dimension, Dimension));
                        var list = perQuery[q0 + i];
                        for (int j = 0; j < tn; j++)
                        {
                            float dot = dots[i * TileRows + j];
                            // Stored keys are what top-k sorts by: the distance, or the negated similarity.
                            float key = similarity ? -dot : Math.Max(0f, queryNorm + _norms[t0 + j] - 2f * dot);
                            bool inside = similarity ? dot > radius : key < radius;
                            long id = _ids[t0 + j];
                            if (inside && (filter is null || filter(id))) list.Add((key, id));
                        }
                    }
                });
            }
        });

        var offsets = new long[rows + 1];
        for (int i = 0; i < rows; i++) offsets[i + 1] = offsets[i] + perQuery[i].Count;
        var resultIds = new long[offsets[rows]];
        var resultDistances = new float[offsets[rows]];
        for (int i = 0; i < rows; i++)
        {
            var list = perQuery[i];
            list.Sort();
            int o = (int)offsets[i];
            for (int j = 0; j < list.Count; j++)
            {
                resultIds[o + j] = list[j].Id;
                resultDistances[o + j] = similarity ? -list[j].Key : list[j].Key;
            }
        }
        return new RangeSearchResult(offsets, resultIds, resultDistances);
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        // Row-major on disk, whatever the in-memory layout.
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        writer.WriteInt64(_count);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_ids.AsSpan(0, _count));
        var row = new float[Dimension];
        for (int r = 0; r < _count; r++)
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

    private void EnsureCapacity(int rows)
    {
        if (_ids.Length >= rows) return;
        int capacity = (int)Math.Max(rows, Math.Max(Width, _ids.Length * 2L));
        capacity = (capacity + Width - 1) / Width * Width;
        capacity = (int)Math.Min(capacity, Array.MaxLength / PanelKernel.PanelSize(Dimension) * Width);
        Array.Resize(ref _panels, (int)(capacity / Width * PanelKernel.PanelSize(Dimension)));
        Array.Resize(ref _norms, capacity);
        Array.Resize(ref _ids, capacity);
    }

    private long PanelStart(int row) => row / Width * PanelKernel.PanelSize(Dimension) + row % Width;

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

    private delegate void TileAction(Span<float> dots, int firstRow, int rowCount);

    // Computes, tile after tile, the dot products of up to QueryBlock queries with every stored vector:
    // dots[i · TileRows + j] = q_i · x_(firstRow + j). Padding lanes past the last vector are zero.
    private unsafe void ForEachTile(float* queries, int queryCount, TileAction action)
    {
        int groups = (queryCount + GroupRows - 1) / GroupRows;
        long panelSize = PanelKernel.PanelSize(Dimension);
        float[] packed = ArrayPool<float>.Shared.Rent(groups * GroupRows * Dimension);
        float[] dots = ArrayPool<float>.Shared.Rent(groups * GroupRows * TileRows);
        try
        {
            fixed (float* a = packed)
            fixed (float* c = dots)
            fixed (float* panels = _panels)
            {
                for (int g = 0; g < groups; g++)
                    PanelKernel.PackGroup(queries + (long)g * GroupRows * Dimension, Math.Min(GroupRows, queryCount - g * GroupRows), Dimension, a + (long)g * GroupRows * Dimension);
                for (int t0 = 0; t0 < _count; t0 += TileRows)
                {
                    int tn = Math.Min(TileRows, _count - t0);
                    int tilePanels = (tn + Width - 1) / Width;
                    for (int g = 0; g < groups; g++)
                        for (int p = 0; p < tilePanels; p++)
                            PanelKernel.GroupTimesPanel(a + (long)g * GroupRows * Dimension, panels + (t0 / Width + p) * panelSize, Dimension, c + g * GroupRows * TileRows + p * Width, TileRows);
                    action(dots.AsSpan(0, groups * GroupRows * TileRows), t0, tn);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
            ArrayPool<float>.Shared.Return(dots);
        }
    }

    // Holds the raw pointers a parallel block needs; the caller pins them for the whole search. The caller's
    // result rows double as heap storage, so selection allocates nothing.
    private sealed unsafe class TopKJob(FlatIndex index, float* queries, int rows, int k, long* ids, float* distances, Func<long, bool>? filter)
    {
        private readonly bool _similarity = index.Metric.IsSimilarity();

        public void RunSingle()
        {
            int dimension = index.Dimension;
            long panelSize = PanelKernel.PanelSize(dimension);
            float* dots = stackalloc float[Width];
            var heap = HeapOf(0, 0);
            fixed (float* panels = index._panels)
            {
                for (int p = 0, first = 0; first < index._count; p++, first += Width)
                {
                    PanelKernel.QueryTimesPanel(queries, panels + p * panelSize, dimension, dots);
                    Offer(ref heap, dots, first, Math.Min(Width, index._count - first));
                }
            }
            Finish(heap, 0);
        }

        public void RunBlock(int block)
        {
            int q0 = block * QueryBlock, qn = Math.Min(QueryBlock, rows - q0);
            int* counts = stackalloc int[QueryBlock];
            index.ForEachTile(queries + (long)q0 * index.Dimension, qn, (dots, t0, tn) =>
            {
                fixed (float* tile = dots)
                {
                    for (int i = 0; i < qn; i++)
                    {
                        var heap = HeapOf(q0 + i, counts[i]);
                        Offer(ref heap, tile + i * TileRows, t0, tn);
                        counts[i] = heap.Count;
                    }
                }
            });
            for (int i = 0; i < qn; i++) Finish(HeapOf(q0 + i, counts[i]), q0 + i);
        }

        // Keys: ‖x‖² − 2q·x for L2 (‖q‖² is added in Finish), −q·x for similarities; smaller is better.
        private void Offer(ref TopKHeap heap, float* dots, int firstRow, int count)
        {
            float[] norms = index._norms;
            long[] storedIds = index._ids;
            for (int j = 0; j < count; j++)
            {
                float key = _similarity ? -dots[j] : norms[firstRow + j] - 2f * dots[j];
                if (key > heap.Threshold) continue;
                long id = storedIds[firstRow + j];
                if (filter is not null && !filter(id)) continue;
                heap.Push(key, id);
            }
        }

        private void Finish(TopKHeap heap, int query)
        {
            int found = heap.SortAndPad();
            float* d = distances + (long)query * k;
            if (_similarity)
            {
                for (int j = 0; j < found; j++) d[j] = -d[j];
                return;
            }
            int dimension = index.Dimension;
            var q = new ReadOnlySpan<float>(queries + (long)query * dimension, dimension);
            float queryNorm = Distance.InnerProduct(q, q);
            for (int j = 0; j < found; j++) d[j] = Math.Max(0f, d[j] + queryNorm);
        }

        private TopKHeap HeapOf(int query, int count) =>
            new(new Span<float>(distances + (long)query * k, k), new Span<long>(ids + (long)query * k, k), count);
    }
}
