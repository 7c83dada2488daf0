using System.Buffers;
using DeepRetrieval.Clustering;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Exhaustive search over product-quantized codes (Faiss <c>IndexPQ</c>): each vector is stored as
/// <see cref="ProductQuantizer.CodeSize"/> bytes, and every query is compared with every code by asymmetric distance
/// computation: one table of M × 2^bits partial distances per query, then M table lookups per code.
/// </summary>
/// <remarks>
/// The index must be trained (the product quantizer's codebooks) before vectors are added; an untrained index, being
/// empty, answers every search with missing neighbours. Retraining is refused once vectors are stored. Reported
/// distances are those to the decoded vectors. Equal distances are ordered by ascending id; searching for more
/// neighbours than are stored pads with id −1 and distance NaN. Removing moves the last code into the hole. For
/// <see cref="Metric.Cosine"/> vectors and queries are normalised and compared by inner product. Searches may run
/// concurrently with each other; training, adds and removes must not overlap anything else.
/// </remarks>
public sealed class PqIndex : QueryByQueryIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    internal const string KindName = "PQ";

    private const int ScanBlock = 1024; // codes scored per ADC call before their keys go to the heap

    private ProductQuantizer _quantizer;
    private byte[] _codes = [];
    private readonly RowIds _rows = new();

    /// <summary>Creates an empty, untrained index.</summary>
    /// <param name="dimension">Components per vector; a multiple of <paramref name="subQuantizers"/>.</param>
    /// <param name="subQuantizers">Number of subspaces M; each vector is stored as M indices.</param>
    /// <param name="bitsPerCode">Bits per index, 4 to 8 (2^bits centroids per subspace).</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <exception cref="ArgumentException">The dimension is not a multiple of M, or a parameter is out of range.</exception>
    public PqIndex(int dimension, int subQuantizers, int bitsPerCode = 8, Metric metric = Metric.L2) : base(dimension, metric)
    {
        _quantizer = new ProductQuantizer(dimension, subQuantizers, bitsPerCode);
    }

    /// <summary>The product quantizer that encodes the vectors (its codebooks once trained).</summary>
    public ProductQuantizer Quantizer => _quantizer;

    /// <summary>k-means settings for training the codebooks; null for the defaults (25 iterations, 256 points per centroid).</summary>
    public KMeansOptions? TrainingOptions { get; init; }

    /// <summary>Bytes per stored vector code: ⌈M · bits / 8⌉.</summary>
    public int CodeSize => _quantizer.CodeSize;

    /// <inheritdoc />
    public override long Count => _rows.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override bool IsTrained => _quantizer.IsTrained;

    /// <summary>Codes, ids and the id map, plus the codebooks (2^bits × dimension floats).</summary>
    public override long MemoryUsageBytes =>
        _codes.LongLength + _rows.MemoryUsageBytes + (long)_quantizer.Centroids.Length * sizeof(float);

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
        _quantizer.Decode(_codes.AsSpan(row * CodeSize, CodeSize), destination);
    }

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows)
    {
        if (_rows.Count > 0)
            throw new InvalidOperationException($"The PQ index already holds {_rows.Count} vectors encoded with the current codebooks; retraining would invalidate them. Create a new index instead.");
        if (rows < _quantizer.CentroidsPerSubQuantizer)
            throw new ArgumentException($"Training a PQ index with {_quantizer.CentroidsPerSubQuantizer} centroids per sub-quantizer needs at least that many vectors; got {rows}.", nameof(vectors));
        var quantizer = new ProductQuantizer(Dimension, _quantizer.SubQuantizers, _quantizer.BitsPerCode);
        if (Metric != Metric.Cosine)
        {
            quantizer.Train(vectors, TrainingOptions);
        }
        else
        {
            // Stored cosine vectors are unit length, so the codebooks must be learnt on unit vectors too.
            float[] normalized = vectors.ToArray();
            NormalizeForCosine(normalized, nameof(vectors));
            quantizer.Train(normalized, TrainingOptions);
        }
        _quantizer = quantizer;
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        _rows.CheckNew(ids, nameof(ids));
        int codeSize = CodeSize;
        long newCount = (long)_rows.Count + rows;
        if (newCount * codeSize > Array.MaxLength)
            throw new InvalidOperationException($"A PQ index with {codeSize}-byte codes holds at most {Array.MaxLength / codeSize} vectors.");

        float[] scratch = ArrayPool<float>.Shared.Rent(Dimension);
        float[] table = ArrayPool<float>.Shared.Rent(_quantizer.DistanceTableSize);
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
                _quantizer.EncodeRow(row, _codes.AsSpan(_rows.Append(ids[r]) * codeSize, codeSize), table);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<float>.Shared.Return(table);
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
        var perQuery = new List<(float Key, long Id)>[rows];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(rows) }, q =>
        {
            var list = new List<(float Key, long Id)>();
            float[] table = ArrayPool<float>.Shared.Rent(_quantizer.DistanceTableSize);
            float[] block = ArrayPool<float>.Shared.Rent(ScanBlock);
            try
            {
                _quantizer.ComputeDistanceTableUnchecked(prepared.AsSpan(q * Dimension, Dimension), table, similarity ? Metric.InnerProduct : Metric.L2);
                for (int first = 0; first < _rows.Count; first += ScanBlock)
                {
                    int count = Math.Min(ScanBlock, _rows.Count - first);
                    Span<float> values = block.AsSpan(0, count);
                    _quantizer.ComputeDistancesUnchecked(table, _codes.AsSpan(first * CodeSize, count * CodeSize), values);
                    for (int i = 0; i < count; i++)
                    {
                        // Stored keys are what results sort by: the distance, or the negated similarity.
                        float value = values[i];
                        bool inside = similarity ? value > radius : value < radius;
                        if (!inside) continue;
                        long id = _rows.Ids[first + i];
                        if (filter is null || filter(id)) list.Add((similarity ? -value : value, id));
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(table);
                ArrayPool<float>.Shared.Return(block);
            }
            perQuery[q] = list;
        });

        return RangeSearchResult.Concatenate(perQuery, similarity);
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        if (!IsTrained)
            throw new InvalidOperationException("The PQ index must be trained before it is saved; call Train first.");
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        _quantizer.WriteTo(writer);
        writer.WriteInt64(_rows.Count);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        writer.WriteSpan<byte>(_codes.AsSpan(0, _rows.Count * CodeSize));
    }

    internal static PqIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        ProductQuantizer quantizer = ProductQuantizer.ReadFrom(reader, dimension);
        int codeSize = quantizer.CodeSize;
        long count = reader.ReadInt64("count", 0, Array.MaxLength / codeSize);
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        byte[] codes = reader.ReadArray<byte>(count * codeSize, "codes");

        var index = new PqIndex(dimension, quantizer.SubQuantizers, quantizer.BitsPerCode, metric) { _quantizer = quantizer };
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
        CheckPadding(reader, quantizer, codes);
        index.EnsureCapacity((int)count);
        foreach (long id in ids) index._rows.Append(id);
        codes.CopyTo(index._codes, 0);
        index.NextId = nextId;
        return index;
    }

    // Codes this index writes never set the bits past M · bits in their last byte, so set ones mean corruption.
    private static void CheckPadding(IndexPayloadReader reader, ProductQuantizer quantizer, byte[] codes)
    {
        int usedBits = quantizer.SubQuantizers * quantizer.BitsPerCode % 8;
        if (usedBits == 0) return;
        int codeSize = quantizer.CodeSize;
        for (int at = codeSize - 1; at < codes.Length; at += codeSize)
            if (codes[at] >> usedBits != 0) throw reader.Corrupt($"code {at / codeSize} has non-zero padding bits");
    }

    /// <inheritdoc />
    protected override void SearchOne(ReadOnlySpan<float> query, Span<long> ids, Span<float> distances, Func<long, bool>? filter)
    {
        bool similarity = Metric.IsSimilarity();
        int codeSize = CodeSize, count = _rows.Count;
        float[] table = ArrayPool<float>.Shared.Rent(_quantizer.DistanceTableSize);
        float[] block = ArrayPool<float>.Shared.Rent(ScanBlock);
        try
        {
            _quantizer.ComputeDistanceTableUnchecked(query, table, similarity ? Metric.InnerProduct : Metric.L2);
            var heap = new TopKHeap(distances, ids);
            long[] rowIds = _rows.Ids;
            for (int first = 0; first < count; first += ScanBlock)
            {
                int n = Math.Min(ScanBlock, count - first);
                Span<float> values = block.AsSpan(0, n);
                _quantizer.ComputeDistancesUnchecked(table, _codes.AsSpan(first * codeSize, n * codeSize), values);
                for (int i = 0; i < n; i++)
                {
                    // Keys are distances, or negated similarities: smaller is always better.
                    float key = similarity ? -values[i] : values[i];
                    if (key > heap.Threshold) continue;
                    long id = rowIds[first + i];
                    if (filter is null || filter(id)) heap.Push(key, id);
                }
            }
            int found = heap.SortAndPad();
            if (similarity)
                for (int j = 0; j < found; j++) distances[j] = -distances[j];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(table);
            ArrayPool<float>.Shared.Return(block);
        }
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
