using System.Buffers;
using DeepRetrieval.Distances;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Exact re-ranking on top of any index (Faiss <c>IndexRefineFlat</c>, factory suffix <c>,RFlat</c>): keeps the
/// raw vectors beside the base index, asks the base for k × <see cref="KFactor"/> candidates and returns the k
/// best by exact distance. It turns a compressed index's approximate distances into exact ones and recovers
/// neighbours the compression mis-ordered, at the cost of 4 × dimension bytes per vector at most: the raw vectors are
/// kept in the narrowest format that gives them back bit for bit (one byte per component while every value is an
/// integer 0..255, as image pixels are; two while every value is exactly a half, as fp16 embeddings are; else four).
/// </summary>
/// <remarks>
/// <para>Training, adds and removes go to the base as well; the base must be empty when wrapped. Search options
/// (threads, filter, and the base's own knobs such as <see cref="HnswSearchOptions"/>) are passed to the base
/// search; <see cref="SetSearchParameter"/> handles <c>k_factor</c> and passes every other name to the base.
/// <see cref="IVectorIndex.RangeSearch"/> scans the raw vectors exactly.</para>
/// <para>The default k factor is 4, not Faiss's 1: with a factor of 1 the re-rank can only reorder the base's
/// k results, never bring in a neighbour the base placed just below them.</para>
/// <para>Equal distances are ordered by ascending id. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other (when the
/// base allows it); training, adds and removes must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).</para>
/// </remarks>
public sealed class RefineFlatIndex : VectorIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = IndexKinds.RefineFlat;

    // A final RFlat wraps everything before it (transforms included), keeping the raw vectors.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        // Refining a refined index would re-rank exact distances again: only one RFlat may end a description.
        Wrap = (cursor, inner) => cursor.Token == KindName && inner is not RefineFlatIndex ? cursor.Build(() => new RefineFlatIndex(inner)) : null,
        FactorySyntax = KindName,
    };

    /// <summary>The k factor used when none is given.</summary>
    public const double DefaultKFactor = 4;

    private const double MaxKFactor = 1 << 20;
    private const int MaxCandidatesPerBlock = 1 << 20; // candidate slots one base search call fills

    private ExactRows _vectors;
    private readonly RowIds _rows = new();
    private double _kFactor;

    /// <summary>Wraps an empty base index.</summary>
    /// <param name="baseIndex">The index that proposes candidates; must hold no vectors yet.</param>
    /// <param name="kFactor">Candidates fetched per requested neighbour; at least 1.</param>
    /// <exception cref="ArgumentException">The base already holds vectors.</exception>
    public RefineFlatIndex(IVectorIndex baseIndex, double kFactor = DefaultKFactor)
        : base(CheckBase(baseIndex).Dimension, baseIndex.Metric)
    {
        BaseIndex = baseIndex;
        KFactor = kFactor;
        _vectors = new ExactRows(baseIndex.Dimension);
    }

    /// <summary>The index that proposes candidates.</summary>
    public IVectorIndex BaseIndex { get; }

    /// <summary>
    /// Candidates fetched from the base per requested neighbour (the base is asked for ⌈k × factor⌉); at least 1.
    /// Also set by <c>SetSearchParameter("k_factor", f)</c>.
    /// </summary>
    public double KFactor
    {
        get => _kFactor;
        set
        {
            if (!(value >= 1 && value <= MaxKFactor))
                throw new ArgumentOutOfRangeException(nameof(KFactor), value, $"The k factor must be a number from 1 to {MaxKFactor}.");
            _kFactor = value;
        }
    }

    /// <inheritdoc />
    public override long Count => _rows.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override bool IsTrained => BaseIndex.IsTrained;

    /// <inheritdoc />
    public override long MemoryUsageBytes =>
        _vectors.MemoryUsageBytes + _rows.MemoryUsageBytes + BaseIndex.MemoryUsageBytes;

    /// <summary>Exact: the raw stored vector (unit length for <see cref="Metric.Cosine"/>), whatever the base stores.</summary>
    public override ReconstructionKind Reconstruction => ReconstructionKind.Exact;

    /// <inheritdoc />
    public override bool Contains(long id) => _rows.Contains(id);

    /// <inheritdoc />
    public override long[] GetIds() => _rows.Snapshot();

    /// <inheritdoc />
    protected override void ReconstructCore(long id, Span<float> destination) =>
        _vectors.Row(_rows.RowOf(id), destination).CopyTo(destination);

    internal override int NestingDepth => 1 + ((BaseIndex as VectorIndex)?.NestingDepth ?? 1);

    /// <inheritdoc />
    public override void SetSearchParameter(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "k_factor")
            KFactor = value;
        else
            BaseIndex.SetSearchParameter(name, value);
    }

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows, IndexBuildOptions options) => BaseIndex.Train(vectors, options);

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        _rows.CheckNew(ids, nameof(ids));
        long newCount = (long)_rows.Count + rows;
        if (newCount * Dimension > Array.MaxLength)
            throw new InvalidOperationException($"A refine index of dimension {Dimension} holds at most {Array.MaxLength / Dimension} vectors.");
        float[]? normalized = null;
        if (Metric == Metric.Cosine)
        {
            // Normalise a copy first, so a zero row leaves both indexes as they were.
            normalized = vectors.ToArray();
            NormalizeForCosine(normalized, nameof(vectors));
        }
        // The base checks its own state (training, capacity) and throws before changing anything.
        BaseIndex.Add(vectors, ids);
        ReadOnlySpan<float> stored = normalized ?? vectors;
        EnsureCapacity((int)newCount);
        for (int r = 0; r < rows; r++)
        {
            int row = _rows.Append(ids[r]);
            _vectors.Write(row, stored.Slice(r * Dimension, Dimension), row);
        }
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids)
    {
        _rows.CheckPresent(ids);
        BaseIndex.Remove(ids);
        return _vectors.RemoveCompacting(_rows, ids);
    }

    /// <inheritdoc />
    protected override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        int candidates = (int)Math.Min(Math.Ceiling(k * _kFactor), Math.Min(MaxCandidatesPerBlock, Math.Max(k, _rows.Count)));
        int block = Math.Max(1, MaxCandidatesPerBlock / candidates);
        long[] candidateIds = ArrayPool<long>.Shared.Rent(Math.Min(rows, block) * candidates);
        float[] candidateDistances = ArrayPool<float>.Shared.Rent(Math.Min(rows, block) * candidates);
        float[]? pooled = null;
        try
        {
            ReadOnlySpan<float> prepared = PrepareQueries(queries, out pooled);
            for (int first = 0; first < rows; first += block)
            {
                int count = Math.Min(block, rows - first);
                Span<long> blockIds = candidateIds.AsSpan(0, count * candidates);
                Span<float> blockDistances = candidateDistances.AsSpan(0, count * candidates);
                // The base gets the caller's queries: it normalises for cosine itself.
                BaseIndex.Search(queries.Slice(first * Dimension, count * Dimension), candidates, blockIds, blockDistances, options);
                for (int q = 0; q < count; q++)
                {
                    int at = first + q;
                    Rerank(prepared.Slice(at * Dimension, Dimension), blockIds.Slice(q * candidates, candidates),
                        ids.Slice(at * k, k), distances.Slice(at * k, k));
                }
            }
        }
        finally
        {
            ReturnPooled(pooled);
            ArrayPool<long>.Shared.Return(candidateIds);
            ArrayPool<float>.Shared.Return(candidateDistances);
        }
    }

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        return RangeHits.ScanAll(prepared, rows, Dimension, radius, Metric.IsSimilarity(), options, _rows.Count, _rows.Ids, KeyOf);
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        writer.WriteDouble(_kFactor);
        writer.WriteIndex(BaseIndex);
        writer.WriteInt64(_rows.Count);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        // Always floats on disk, whatever the store's format: the file does not depend on what the vectors happen to hold.
        for (int r = 0; r < _rows.Count; r++) writer.WriteSpan<float>(_vectors.Row(r));
    }

    internal static RefineFlatIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        double kFactor = reader.ReadDouble();
        if (!(kFactor >= 1 && kFactor <= MaxKFactor)) throw reader.Corrupt($"k factor {kFactor} is outside 1..{MaxKFactor}");
        IVectorIndex baseIndex = reader.ReadIndex("base index");
        if (baseIndex.Dimension != dimension || baseIndex.Metric != metric)
            throw reader.Corrupt($"the base index has dimension {baseIndex.Dimension} and metric {baseIndex.Metric}, not {dimension} and {metric}");
        long count = reader.ReadInt64("count", 0, Array.MaxLength / dimension);
        if (count != baseIndex.Count)
            throw reader.Corrupt($"it holds {count} raw vectors but its base index holds {baseIndex.Count}");
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        // Read in blocks into the narrowest exact store, so loading never holds the floats twice.
        if (count * dimension > reader.Remaining / sizeof(float))
            throw reader.Corrupt($"it declares {count} vectors of dimension {dimension} but only {reader.Remaining} payload bytes remain");
        var vectors = new ExactRows(dimension);
        vectors.Resize((int)count);
        int block = (int)Math.Max(1, Math.Min(count, (1 << 18) / dimension));
        float[] buffer = new float[(long)block * dimension];
        for (int first = 0; first < count; first += block)
        {
            int rows = (int)Math.Min(block, count - first);
            Span<float> chunk = buffer.AsSpan(0, rows * dimension);
            reader.ReadInto(chunk, "vectors");
            if (!VectorValidation.InRange(chunk, dimension))
                throw reader.Corrupt("a stored vector holds a non-finite value or one too large for float distances");
            for (int r = 0; r < rows; r++) vectors.Write(first + r, chunk.Slice(r * dimension, dimension), first + r);
        }
        foreach (long id in ids)
        {
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} is negative or not below the next id {nextId}");
            // Counts are equal, so the base holding every id of ours means both hold the same ids (duplicates fail below).
            if (!baseIndex.Contains(id)) throw reader.Corrupt($"id {id} has a raw vector but is not in the base index (the two hold different ids)");
        }

        // The base was saved with these vectors, so wrapping it loaded (not empty) is the one allowed exception.
        var index = new RefineFlatIndex(baseIndex, kFactor, loading: true);
        try
        {
            index._rows.CheckNew(ids, nameof(ids));
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        index._rows.Resize((int)count);
        foreach (long id in ids) index._rows.Append(id);
        index._vectors = vectors;
        index.NextId = nextId;
        return index;
    }

    private RefineFlatIndex(IVectorIndex baseIndex, double kFactor, bool loading) : base(baseIndex.Dimension, baseIndex.Metric)
    {
        _ = loading;
        BaseIndex = baseIndex;
        KFactor = kFactor;
        _vectors = new ExactRows(baseIndex.Dimension);
    }

    private static IVectorIndex CheckBase(IVectorIndex baseIndex)
    {
        ArgumentNullException.ThrowIfNull(baseIndex);
        if (baseIndex.Metric == Metric.Hamming)
            throw new ArgumentException("RFlat re-ranks by exact float distances, which a Hamming-distance base (BFlat, LSH) does not rank by; refine a float index.", nameof(baseIndex));
        if ((baseIndex as VectorIndex)?.NestingDepth >= IndexFileFormat.MaxNestingDepth)
            throw new ArgumentException($"The base index is nested {((VectorIndex)baseIndex).NestingDepth} deep; a refine index around it would exceed the {IndexFileFormat.MaxNestingDepth} levels an index file allows.", nameof(baseIndex));
        if (baseIndex.Count != 0)
            throw new ArgumentException($"The base index must be empty when wrapped (it holds {baseIndex.Count} vectors), so that the refine index holds the raw vector of every id; add the vectors through the refine index.", nameof(baseIndex));
        return baseIndex;
    }

    private void Rerank(ReadOnlySpan<float> query, ReadOnlySpan<long> candidates, Span<long> ids, Span<float> distances)
    {
        // Rows first, each one's cache lines requested at once: the candidates' rows are scattered over the store and
        // mostly cold, and fetching them one after the other cost more than the base search on Fashion-MNIST.
        int[]? pooled = candidates.Length > 256 ? ArrayPool<int>.Shared.Rent(candidates.Length) : null;
        Span<int> rows = pooled ?? stackalloc int[candidates.Length];
        try
        {
            for (int i = 0; i < candidates.Length; i++)
            {
                long id = candidates[i];
                if (id == SearchResult.MissingId)
                {
                    rows[i] = -1;
                    continue;
                }
                if (!_rows.Contains(id))
                    throw new InvalidOperationException($"The base index returned id {id}, which the refine index does not hold; add and remove vectors through the refine index, not its base.");
                rows[i] = _rows.RowOf(id);
                _vectors.PrefetchRow(rows[i]);
            }
            var heap = new TopKHeap(distances, ids);
            for (int i = 0; i < candidates.Length; i++)
                if (rows[i] >= 0) heap.Push(KeyOf(query, rows[i]), candidates[i]);
            int found = heap.SortAndPad();
            if (Metric.IsSimilarity())
                for (int j = 0; j < found; j++) distances[j] = -distances[j];
        }
        finally
        {
            if (pooled is not null) ArrayPool<int>.Shared.Return(pooled);
        }
    }

    // Smaller is closer: the squared distance, or the negated similarity.
    private float KeyOf(ReadOnlySpan<float> query, int row)
    {
        ReadOnlySpan<float> x = _vectors.Row(row);
        return Metric == Metric.L2 ? Distance.SquaredL2(query, x) : -Distance.InnerProduct(query, x);
    }

    private void EnsureCapacity(int rows)
    {
        if (_rows.Capacity >= rows) return;
        int capacity = _rows.Capacity == 0 ? rows : (int)Math.Max(rows, Math.Min(_rows.Capacity * 2L, Array.MaxLength / Dimension));
        _vectors.Resize(capacity);
        _rows.Resize(capacity);
    }
}
