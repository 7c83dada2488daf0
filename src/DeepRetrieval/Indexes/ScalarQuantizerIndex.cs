using System.Buffers;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Exhaustive search over scalar-quantized codes (Faiss <c>IndexScalarQuantizer</c>): each vector is stored as
/// <see cref="ScalarQuantizer.CodeSize"/> bytes and every query is compared with every code through the
/// quantizer's asymmetric distance, so the query itself is never quantized.
/// </summary>
/// <remarks>
/// SQ8 and SQ4 must be trained before vectors are added (and so an untrained index, being empty, answers every
/// search with missing neighbours); Fp16 is ready at once. Retraining is refused once vectors are stored. Reported distances are those to
/// the decoded vectors. Equal distances are ordered by ascending id; searching for more neighbours than are
/// stored pads with id −1 and distance NaN. Removing moves the last code into the hole. For
/// <see cref="Metric.Cosine"/> vectors and queries are normalised and compared by inner product. Searches may run
/// concurrently with each other; training, adds and removes must not overlap anything else.
/// </remarks>
public sealed class ScalarQuantizerIndex : QueryByQueryIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    internal const string KindName = "SQ";

    private ScalarQuantizer _quantizer;
    private byte[] _codes = [];
    private readonly RowIds _rows = new();

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="type">How each component is stored.</param>
    /// <param name="metric">How vectors are compared.</param>
    public ScalarQuantizerIndex(int dimension, ScalarQuantizerType type, Metric metric = Metric.L2) : base(dimension, metric)
    {
        _quantizer = new ScalarQuantizer(dimension, type);
    }

    /// <summary>How each component is stored.</summary>
    public ScalarQuantizerType Type => _quantizer.Type;

    /// <summary>Bytes per stored vector code.</summary>
    public int CodeSize => _quantizer.CodeSize;

    /// <inheritdoc />
    public override long Count => _rows.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override bool IsTrained => _quantizer.IsTrained;

    /// <inheritdoc />
    public override long MemoryUsageBytes =>
        _codes.LongLength + _rows.MemoryUsageBytes;

    /// <summary>True when <paramref name="id"/> is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _rows.Contains(id);

    /// <summary>Decodes the stored vector of <paramref name="id"/>, as Faiss's <c>reconstruct</c>.</summary>
    /// <param name="id">A stored id.</param>
    /// <param name="destination">Receives <see cref="VectorIndex.Dimension"/> values.</param>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    public void Reconstruct(long id, Span<float> destination)
    {
        CheckDestination(destination);
        int row = _rows.RowOf(id);
        _quantizer.DecodeRow(CodeOf(row), destination);
    }

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows)
    {
        if (Type == ScalarQuantizerType.Fp16) return;
        if (_rows.Count > 0)
            throw new InvalidOperationException($"The {Type} index already holds {_rows.Count} vectors encoded with the current ranges; retraining would invalidate them. Create a new index instead.");
        if (Metric != Metric.Cosine)
        {
            _quantizer.Train(vectors);
            return;
        }
        // Stored cosine vectors are unit length, so the ranges must be learnt on unit vectors too.
        float[] normalized = vectors.ToArray();
        NormalizeForCosine(normalized, nameof(vectors));
        _quantizer.Train(normalized);
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        _rows.CheckNew(ids, nameof(ids));
        int codeSize = CodeSize;
        long newCount = (long)_rows.Count + rows;
        if (newCount * codeSize > Array.MaxLength)
            throw new InvalidOperationException($"A {Type} index of dimension {Dimension} holds at most {Array.MaxLength / codeSize} vectors.");

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
                _quantizer.EncodeRow(row, _codes.AsSpan(_rows.Append(ids[r]) * codeSize, codeSize));
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
        return _rows.RemoveCompacting(ids, _codes, CodeSize);
    }

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        Func<long, bool>? filter = options.Filter;
        bool similarity = Metric.IsSimilarity();
        int codeSize = CodeSize;
        var perQuery = new List<(float Key, long Id)>[rows];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(rows) }, q =>
        {
            ReadOnlySpan<float> query = prepared.AsSpan(q * Dimension, Dimension);
            var list = new List<(float Key, long Id)>();
            for (int r = 0; r < _rows.Count; r++)
            {
                ReadOnlySpan<byte> code = _codes.AsSpan(r * codeSize, codeSize);
                long id = _rows.Ids[r];
                // Stored keys are what results sort by: the distance, or the negated similarity.
                if (similarity)
                {
                    float value = _quantizer.InnerProductUnchecked(query, code);
                    if (value > radius && (filter is null || filter(id))) list.Add((-value, id));
                }
                else
                {
                    float value = _quantizer.SquaredL2Unchecked(query, code);
                    if (value < radius && (filter is null || filter(id))) list.Add((value, id));
                }
            }
            perQuery[q] = list;
        });

        return RangeSearchResult.Concatenate(perQuery, similarity);
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        if (!IsTrained)
            throw new InvalidOperationException($"The {Type} index must be trained before it is saved; call Train first.");
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        _quantizer.WriteTo(writer);
        writer.WriteInt64(_rows.Count);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        writer.WriteSpan<byte>(_codes.AsSpan(0, _rows.Count * CodeSize));
    }

    internal static ScalarQuantizerIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        ScalarQuantizer quantizer = ScalarQuantizer.ReadFrom(reader, dimension);
        int codeSize = quantizer.CodeSize;
        long count = reader.ReadInt64("count", 0, Array.MaxLength / codeSize);
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        byte[] codes = reader.ReadArray<byte>(count * codeSize, "codes");

        var index = new ScalarQuantizerIndex(dimension, quantizer.Type, metric) { _quantizer = quantizer };
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
        CheckCodes(reader, quantizer, codes, dimension);
        index.EnsureCapacity((int)count);
        foreach (long id in ids) index._rows.Append(id);
        codes.CopyTo(index._codes, 0);
        index.NextId = nextId;
        return index;
    }

    // Codes this index writes never hold a set padding nibble or a non-finite half, so either means corruption.
    private static void CheckCodes(IndexPayloadReader reader, ScalarQuantizer quantizer, byte[] codes, int dimension)
    {
        int codeSize = quantizer.CodeSize;
        if (quantizer.Type == ScalarQuantizerType.SQ4 && dimension % 2 == 1)
        {
            for (int at = codeSize - 1; at < codes.Length; at += codeSize)
                if (codes[at] >> 4 != 0) throw reader.Corrupt($"code {at / codeSize} has a non-zero padding nibble");
        }
        else if (quantizer.Type == ScalarQuantizerType.Fp16)
        {
            for (int at = 0; at + 1 < codes.Length; at += 2)
            {
                Half h = BitConverter.UInt16BitsToHalf((ushort)(codes[at] | codes[at + 1] << 8));
                if (!Half.IsFinite(h)) throw reader.Corrupt($"code {at / codeSize} holds a non-finite half");
            }
        }
    }

    /// <inheritdoc />
    protected override void SearchOne(ReadOnlySpan<float> query, Span<long> ids, Span<float> distances, Func<long, bool>? filter)
    {
        bool similarity = Metric.IsSimilarity();
        int codeSize = CodeSize;
        var heap = new TopKHeap(distances, ids);
        ReadOnlySpan<byte> codes = _codes.AsSpan(0, _rows.Count * codeSize);
        for (int r = 0; r < _rows.Count; r++)
        {
            ReadOnlySpan<byte> code = codes.Slice(r * codeSize, codeSize);
            // Keys are distances, or negated similarities: smaller is always better.
            float key = similarity ? -_quantizer.InnerProductUnchecked(query, code) : _quantizer.SquaredL2Unchecked(query, code);
            if (key > heap.Threshold) continue;
            long id = _rows.Ids[r];
            if (filter is null || filter(id)) heap.Push(key, id);
        }
        int found = heap.SortAndPad();
        if (similarity)
            for (int j = 0; j < found; j++) distances[j] = -distances[j];
    }

    private ReadOnlySpan<byte> CodeOf(int row) => _codes.AsSpan(row * CodeSize, CodeSize);

    private void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        // Grow to exactly what a first batch needs, doubling after that so repeated small adds stay amortised.
        int capacity = _rows.Capacity == 0 ? rows : (int)Math.Max(rows, Math.Min(_rows.Capacity * 2L, Array.MaxLength / CodeSize));
        Array.Resize(ref _codes, capacity * CodeSize);
        _rows.Resize(capacity);
    }
}
