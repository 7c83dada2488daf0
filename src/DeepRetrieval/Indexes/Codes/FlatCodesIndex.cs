using System.Buffers;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Codes;

/// <summary>
/// Base of the exhaustive indexes over fixed-size codes (Faiss's <c>IndexFlatCodes</c>): <see cref="ScalarQuantizerIndex"/>
/// and <see cref="PqIndex"/>. It owns the codes (one row-major array), the ids and their persistence; the codec decides
/// how a vector becomes a code and how a query scores codes.
/// </summary>
/// <remarks>
/// Training is refused once vectors are stored, and does nothing on a trained, empty index. Reported distances are those
/// to the decoded vectors. Equal distances are ordered by ascending id; searching for more neighbours than are stored
/// pads with id −1 and distance NaN. Removing moves the last code into the hole. For <see cref="Metric.Cosine"/> vectors
/// and queries are normalised and compared by inner product. Thread safety: searches, range searches, <c>Contains</c>,
/// <c>Reconstruct</c>, <c>GetIds</c> and saves may run concurrently with each other; training, adds and removes must not
/// overlap anything else (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).
/// </remarks>
public abstract class FlatCodesIndex : QueryByQueryIndex
{
    private const int ScanBlock = 1024; // codes scored per codec call before their keys go to the heap

    private byte[] _codes = [];
    private readonly RowIds _rows = new();

    private protected FlatCodesIndex(int dimension, Metric metric, VectorCodec codec) : base(dimension, metric) => Codec = codec;

    private protected VectorCodec Codec { get; private set; }

    /// <summary>Bytes per stored vector code.</summary>
    public int CodeSize => Codec.CodeSize;

    /// <inheritdoc />
    public override long Count => _rows.Count;

    /// <inheritdoc />
    public override bool IsTrained => Codec.IsTrained;

    /// <summary>Codes, ids and the id map, plus what the codec learnt (codebooks, ranges).</summary>
    public override long MemoryUsageBytes => _codes.LongLength + _rows.MemoryUsageBytes + Codec.MemoryUsageBytes;

    /// <summary>Approximate: the decoded code.</summary>
    public override ReconstructionKind Reconstruction => ReconstructionKind.Approximate;

    /// <inheritdoc />
    public override bool Contains(long id) => _rows.Contains(id);

    /// <inheritdoc />
    public override long[] GetIds() => _rows.Snapshot();

    /// <inheritdoc />
    protected override void ReconstructCore(long id, Span<float> destination) =>
        Codec.Decode(_codes.AsSpan(_rows.RowOf(id) * CodeSize, CodeSize), destination);

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows, IndexBuildOptions options)
    {
        if (!Codec.NeedsTraining) return;
        if (Metric != Metric.Cosine)
        {
            Codec.Train(vectors, options);
            return;
        }
        // Stored cosine vectors are unit length, so the codec must learn from unit vectors too.
        float[] normalized = vectors.ToArray();
        NormalizeForCosine(normalized, nameof(vectors));
        Codec.Train(normalized, options);
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        _rows.CheckNew(ids, nameof(ids));
        int codeSize = CodeSize;
        long newCount = (long)_rows.Count + rows;
        if (newCount * codeSize > Array.MaxLength)
            throw new InvalidOperationException($"A {Kind} index with {codeSize}-byte codes holds at most {Array.MaxLength / codeSize} vectors.");

        float[] scratch = ArrayPool<float>.Shared.Rent(Dimension);
        try
        {
            Span<float> row = scratch.AsSpan(0, Dimension);
            if (Metric == Metric.Cosine)
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
                NormalizeForCosine(row, nameof(vectors));
                Codec.Encode(row, _codes.AsSpan(_rows.Append(ids[r]) * codeSize, codeSize));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids) => _rows.RemoveCompacting(ids, _codes, CodeSize);

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        return RangeHits.Search(prepared, rows, Dimension, radius, Metric.IsSimilarity(), options, (query, _, hits) =>
        {
            // Every code scored a block at a time through the codec, as a k-NN search scores them.
            int codeSize = CodeSize, count = _rows.Count;
            var table = new float[Codec.QueryTableSize];
            var keys = new float[Math.Min(ScanBlock, Math.Max(count, 1))];
            Codec.PrepareQuery(query, table);
            for (int first = 0; first < count; first += ScanBlock)
            {
                int n = Math.Min(ScanBlock, count - first);
                Codec.Keys(query, table, _codes.AsSpan(first * codeSize, n * codeSize), keys.AsSpan(0, n));
                for (int i = 0; i < n; i++) hits.Offer(keys[i], _rows.Ids[first + i]);
            }
        });
    }

    /// <inheritdoc />
    protected override void SearchOne(ReadOnlySpan<float> query, Span<long> ids, Span<float> distances, Func<long, bool>? filter)
    {
        int codeSize = CodeSize, count = _rows.Count;
        float[] table = ArrayPool<float>.Shared.Rent(Math.Max(1, Codec.QueryTableSize));
        float[] block = ArrayPool<float>.Shared.Rent(ScanBlock);
        try
        {
            Span<float> queryTable = table.AsSpan(0, Codec.QueryTableSize);
            Codec.PrepareQuery(query, queryTable);
            var heap = new TopKHeap(distances, ids);
            long[] rowIds = _rows.Ids;
            for (int first = 0; first < count; first += ScanBlock)
            {
                int n = Math.Min(ScanBlock, count - first);
                Span<float> keys = block.AsSpan(0, n);
                Codec.Keys(query, queryTable, _codes.AsSpan(first * codeSize, n * codeSize), keys);
                for (int i = 0; i < n; i++)
                {
                    // Keys are distances, or negated similarities: smaller is always better.
                    float key = keys[i];
                    if (key > heap.Threshold) continue;
                    long id = rowIds[first + i];
                    if (filter is null || filter(id)) heap.Push(key, id);
                }
            }
            int found = heap.SortAndPad();
            if (Codec.Similarity)
                for (int j = 0; j < found; j++) distances[j] = -distances[j];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(table);
            ArrayPool<float>.Shared.Return(block);
        }
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        if (!IsTrained)
            throw new InvalidOperationException($"The {Kind} index must be trained before it is saved; call Train first.");
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        Codec.WriteTo(writer);
        writer.WriteInt64(_rows.Count);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        writer.WriteSpan<byte>(_codes.AsSpan(0, _rows.Count * CodeSize));
    }

    /// <summary>Reads what <see cref="WritePayload"/> wrote: <paramref name="readCodec"/> reads the codec's parameters and <paramref name="create"/> builds the empty index around it.</summary>
    private protected static TIndex ReadPayload<TIndex>(IndexPayloadReader reader, Func<IndexPayloadReader, int, bool, VectorCodec> readCodec,
        Func<int, Metric, VectorCodec, TIndex> create)
        where TIndex : FlatCodesIndex
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        VectorCodec codec = readCodec(reader, dimension, metric.IsSimilarity());
        int codeSize = codec.CodeSize;
        long count = reader.ReadInt64("count", 0, Array.MaxLength / codeSize);
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        byte[] codes = reader.ReadArray<byte>(count * codeSize, "codes");

        TIndex index = create(dimension, metric, codec);
        foreach (long id in ids)
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} is negative or not below the next id {nextId}");
        try
        {
            index._rows.CheckNew(ids, nameof(ids));
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        if (codec.CheckCodes(codes) is { } problem) throw reader.Corrupt(problem);
        index.EnsureCapacity((int)count);
        foreach (long id in ids) index._rows.Append(id);
        codes.CopyTo(index._codes, 0);
        index.NextId = nextId;
        return index;
    }

    private void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        // Grow to exactly what a first batch needs, doubling after that so repeated small adds stay amortised.
        int capacity = _rows.Capacity == 0 ? rows : (int)Math.Max(rows, Math.Min(_rows.Capacity * 2L, Array.MaxLength / CodeSize));
        Array.Resize(ref _codes, capacity * CodeSize);
        _rows.Resize(capacity);
    }
}
