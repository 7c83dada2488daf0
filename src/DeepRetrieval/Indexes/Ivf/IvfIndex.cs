using System.Buffers;
using DeepRetrieval.Clustering;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// An inverted-file index (Faiss <c>IndexIVF</c>): k-means splits the space into <see cref="Lists"/> cells, each
/// vector is stored in the list of its nearest centroid, and a query scans only the <see cref="Nprobe"/> lists whose
/// centroids are nearest to it. Lists hold raw floats, scalar-quantized residuals or product-quantized residuals
/// (see <see cref="IvfEncoding"/>).
/// </summary>
/// <remarks>
/// <para>The centroids live in a coarse quantizer, itself an index: a <see cref="FlatIndex"/> by default, or an
/// <see cref="HnswIndex"/> when there are tens of thousands of lists (Faiss's <c>IVF65536_HNSW32</c>).</para>
/// <para>Training runs seeded k-means (<see cref="TrainingIterations"/> iterations, at most 256 points per centroid;
/// k-means++ seeding up to <see cref="PlusPlusSeedingMaxLists"/> lists, random seeding above, as Faiss seeds at every size)
/// and then trains the list encoding on the residuals of at most 131,072 training vectors. Training needs at least
/// as many vectors as lists, is refused once vectors are stored and does nothing on a trained, empty index; a training
/// cancelled through <see cref="IndexBuildOptions"/> leaves the index untrained, and training again starts afresh.</para>
/// <para>Adds assign a batch to lists through one batched coarse search and encode it on all cores. Each list keeps
/// its codes and ids in two contiguous arrays. Removing an id moves its list's last entry into the hole.</para>
/// <para><see cref="Nprobe"/> defaults to 1, as in Faiss; set it with <c>SetSearchParameter("nprobe", n)</c>, the
/// property, or per call with <see cref="IvfSearchOptions"/>. A value above <see cref="Lists"/> probes every list
/// (it is clamped, as Faiss does); zero or negative is rejected. Probing every list of a flat IVF gives exact results.</para>
/// <para>For <see cref="Metric.Cosine"/> vectors and queries are normalised, clustering is spherical and everything
/// else is inner product. Reported distances are those to the stored (decoded) vectors; equal distances are ordered
/// by ascending id. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other; training, adds and removes must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).</para>
/// </remarks>
public sealed class IvfIndex : VectorIndex
{
    /// <summary>The kind name used by the index file.</summary>
    public const string KindName = IndexKinds.InvertedFile;

    // IVF<lists>[_HNSW<M>],<encoding>: an inverted file whose coarse quantizer is exact, or an HNSW graph for many lists.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = ParseToken,
        FactorySyntax = "IVF<lists>[_HNSW<M>],Flat|SQ8|SQ4|SQfp16|PQ<M>[x<bits>]",
    };

    private const int MaxLists = 1 << 24;
    private const int EncoderTrainingRows = 1 << 17;
    private const int AddChunkRows = 1 << 14;
    private const long SlotEntryBytes = 24; // dictionary key, value, hash code, next link

    private static readonly SearchOptions SingleThread = new() { MaxDegreeOfParallelism = 1 };

    private readonly IVectorIndex _quantizer;
    private readonly IvfListCodec _codec;
    private readonly IvfList[] _lists;
    private readonly Dictionary<long, long> _slotOf = []; // id → (list << 32) | offset
    // A mapped index fills _slotOf on the first Contains or Reconstruct; until then Count is the lists' total.
    private volatile bool _slotsPending;
    private long _mappedEntries;
    private float[] _centroids = [];
    private PrunedCentroidSearch? _prunedCoarse; // the one-query coarse search when the quantizer is flat
    private bool _trained;
    private int _nprobe = 1;

    /// <summary>Creates an empty, untrained inverted-file index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="lists">Number of inverted lists (k-means centroids), from 1 to 2²⁴.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="encoding">How list entries are stored.</param>
    /// <param name="coarseQuantizer">
    /// An empty index that will hold the centroids, with the same dimension and metric <see cref="Metric.L2"/> for an
    /// L2 index or <see cref="Metric.InnerProduct"/> otherwise (<see cref="Metric.Cosine"/> is also accepted for a
    /// cosine index); null for a <see cref="FlatIndex"/>.
    /// </param>
    /// <exception cref="ArgumentException">A parameter is out of range or the coarse quantizer does not fit.</exception>
    public IvfIndex(int dimension, int lists, Metric metric, IvfEncoding encoding, IVectorIndex? coarseQuantizer = null)
        : this(dimension, lists, metric, encoding, coarseQuantizer, codec: null)
    {
    }

    private IvfIndex(int dimension, int lists, Metric metric, IvfEncoding encoding, IVectorIndex? coarseQuantizer, IvfListCodec? codec)
        : base(dimension, metric)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        if (lists is < 1 or > MaxLists)
            throw new ArgumentOutOfRangeException(nameof(lists), lists, $"The number of lists must be from 1 to {MaxLists}.");
        Metric coarseMetric = metric == Metric.L2 ? Metric.L2 : Metric.InnerProduct;
        if (coarseQuantizer is null)
        {
            coarseQuantizer = new FlatIndex(dimension, coarseMetric);
        }
        else
        {
            if (coarseQuantizer is IvfIndex)
                throw new ArgumentException("An IVF index cannot be the coarse quantizer of another; use a FlatIndex or an HnswIndex.", nameof(coarseQuantizer));
            if ((coarseQuantizer as VectorIndex)?.NestingDepth >= IndexFileFormat.MaxNestingDepth)
                throw new ArgumentException($"The coarse quantizer is nested {((VectorIndex)coarseQuantizer).NestingDepth} deep; an IVF index around it would exceed the {IndexFileFormat.MaxNestingDepth} levels an index file allows.", nameof(coarseQuantizer));
            if (coarseQuantizer.Dimension != dimension)
                throw new ArgumentException($"The coarse quantizer has dimension {coarseQuantizer.Dimension} but the index has dimension {dimension}.", nameof(coarseQuantizer));
            bool metricFits = coarseQuantizer.Metric == coarseMetric || (metric == Metric.Cosine && coarseQuantizer.Metric == Metric.Cosine);
            if (!metricFits)
                throw new ArgumentException($"A {metric} IVF index needs a coarse quantizer with metric {coarseMetric}; got {coarseQuantizer.Metric}.", nameof(coarseQuantizer));
            if (codec is null && coarseQuantizer.Count != 0)
                throw new ArgumentException($"The coarse quantizer must be empty (it holds {coarseQuantizer.Count} vectors); training fills it with the centroids.", nameof(coarseQuantizer));
        }
        _quantizer = coarseQuantizer;
        Encoding = encoding;
        _codec = codec ?? CreateCodec(dimension, metric, encoding);
        _lists = new IvfList[lists];
        for (int i = 0; i < lists; i++) _lists[i] = new IvfList();
    }

    /// <summary>The number of inverted lists.</summary>
    public int Lists => _lists.Length;

    /// <summary>How list entries are stored.</summary>
    public IvfEncoding Encoding { get; }

    /// <summary>The index holding the centroids (ids 0 to <see cref="Lists"/> − 1 once trained).</summary>
    public IVectorIndex CoarseQuantizer => _quantizer;

    /// <summary>Bytes per stored vector code (ids and the id map come on top).</summary>
    public int CodeSize => _codec.CodeSize;

    /// <summary>The seed of the k-means run that places the centroids.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>
    /// The most lists whose k-means starts from k-means++ seeding; more lists start from distinct random training
    /// vectors, as Faiss's always do. k-means++ gives a lower objective for the same iterations but costs
    /// O(lists × seeding points) sequential passes, which at 65,536 lists took four times as long as the clustering itself.
    /// </summary>
    public const int PlusPlusSeedingMaxLists = 8192;

    /// <summary>k-means iterations when training (Faiss's IVF uses 10).</summary>
    public int TrainingIterations { get; init; } = 10;

    /// <summary>
    /// Lists each query scans by default; positive. Values above <see cref="Lists"/> scan every list. Also settable
    /// with <c>SetSearchParameter("nprobe", n)</c>.
    /// </summary>
    public int Nprobe
    {
        get => _nprobe;
        set => _nprobe = CheckNprobe(value, nameof(value));
    }

    /// <inheritdoc />
    public override long Count => _slotsPending ? _mappedEntries : _slotOf.Count;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override bool IsTrained => _trained;

    /// <inheritdoc />
    public override long MemoryUsageBytes
    {
        get
        {
            long bytes = (long)_centroids.Length * sizeof(float) + _quantizer.MemoryUsageBytes + _codec.MemoryUsageBytes
                + (_prunedCoarse?.MemoryUsageBytes ?? 0)
                + _slotOf.Count * SlotEntryBytes + (long)_lists.Length * IntPtr.Size;
            foreach (IvfList list in _lists) bytes += list.MemoryUsageBytes;
            return bytes;
        }
    }

    /// <summary>The number of vectors in list <paramref name="list"/> (to inspect how balanced the lists are).</summary>
    /// <param name="list">From 0 to <see cref="Lists"/> − 1.</param>
    public int ListLength(int list)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(list);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(list, Lists);
        return _lists[list].Count;
    }

    internal IvfListCodec Codec => _codec;

    internal ReadOnlySpan<float> Centroids => _centroids;

    /// <summary>Whether one-query searches find their lists with <see cref="PrunedCentroidSearch"/>.</summary>
    internal bool PrunesCoarseSearch => _prunedCoarse is not null;

    /// <summary>Exact for flat lists; the centroid plus the decoded residual for SQ and PQ lists.</summary>
    public override ReconstructionKind Reconstruction =>
        Encoding.Kind == IvfEncodingKind.Flat ? ReconstructionKind.Exact : ReconstructionKind.Approximate;

    /// <inheritdoc />
    public override bool Contains(long id) => SlotMap.ContainsKey(id);

    private Dictionary<long, long> SlotMap => _slotsPending ? BuildSlotMap() : _slotOf;

    // Only mapped indexes get here: their lists never change, so the map is built once, from the file, on first use.
    private Dictionary<long, long> BuildSlotMap()
    {
        lock (_slotOf)
        {
            if (!_slotsPending) return _slotOf;
            using var lease = LeaseMapping();
            for (int l = 0; l < _lists.Length; l++)
            {
                ReadOnlySpan<long> ids = _lists[l].Ids;
                for (int i = 0; i < ids.Length; i++)
                {
                    if (ids[i] >= 0 && ids[i] < NextId && _slotOf.TryAdd(ids[i], Pack(l, i))) continue;
                    _slotOf.Clear();
                    throw new InvalidDataException($"{Mapping?.Path}: corrupt {Kind} index file: id {ids[i]} in list {l} is stored twice, negative or not below the next id {NextId}.");
                }
            }
            _slotsPending = false;
            return _slotOf;
        }
    }

    /// <summary>The ids list by list, in list order.</summary>
    public override long[] GetIds()
    {
        using var lease = LeaseMapping();
        var ids = new long[Count];
        int n = 0;
        foreach (IvfList list in _lists)
        {
            list.Ids.CopyTo(ids.AsSpan(n));
            n += list.Count;
        }
        return ids;
    }

    /// <inheritdoc />
    protected override void ReconstructCore(long id, Span<float> destination)
    {
        if (!SlotMap.TryGetValue(id, out long slot)) throw new KeyNotFoundException($"Id {id} is not in the index.");
        int list = (int)(slot >> 32), offset = (int)slot, codeSize = CodeSize;
        _codec.Decode(_lists[list].Codes.Slice(offset * codeSize, codeSize), destination);
        if (_codec.ByResidual)
            System.Numerics.Tensors.TensorPrimitives.Add(destination, CentroidOf(list), destination);
    }

    internal override int NestingDepth => 1 + ((_quantizer as VectorIndex)?.NestingDepth ?? 1);

    /// <inheritdoc />
    public override void SetSearchParameter(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name != "nprobe")
            throw new ArgumentException($"The {Kind} index has no search parameter \"{name}\"; it has \"nprobe\".", nameof(name));
        if (!(value >= 1 && value <= int.MaxValue) || value != Math.Floor(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "nprobe must be a positive integer.");
        _nprobe = (int)value;
    }

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows, IndexBuildOptions options)
    {
        if (rows < Lists)
            throw new ArgumentException($"Training {Lists} lists needs at least {Lists} vectors; got {rows}.", nameof(vectors));
        if (rows < _codec.MinimumTrainingRows)
            throw new ArgumentException($"Training the {Encoding} encoding needs at least {_codec.MinimumTrainingRows} vectors; got {rows}.", nameof(vectors));
        float[]? normalized = null;
        if (Metric == Metric.Cosine)
        {
            normalized = vectors.ToArray();
            NormalizeForCosine(normalized, nameof(vectors));
            vectors = normalized;
        }

        var kmeans = new KMeans(new KMeansOptions
        {
            K = Lists,
            Iterations = TrainingIterations,
            Seed = Seed,
            Init = Lists > PlusPlusSeedingMaxLists ? KMeansInit.Random : KMeansInit.KMeansPlusPlus,
            Metric = Metric == Metric.L2 ? Metric.L2 : Metric.InnerProduct,
            Spherical = Metric == Metric.Cosine,
            Logger = options.Logger,
        });
        IProgress<Clustering.KMeansProgress>? iterations = options.Progress is null ? null
            : new SyncProgress<Clustering.KMeansProgress>(p => options.Progress.Report(new IndexProgress("k-means", p.Iteration + 1, TrainingIterations)));
        float[] centroids = kmeans.Train(vectors, Dimension, iterations, options.CancellationToken).Centroids;

        _trained = false; // until the encoding is trained on the new centroids' residuals too
        if (_quantizer.Count > 0)
        {
            // A training cancelled after the centroids went in (while the encoding learnt): forget them.
            var old = new long[Lists];
            for (int i = 0; i < Lists; i++) old[i] = i;
            _quantizer.Remove(old);
        }
        if (!_quantizer.IsTrained) _quantizer.Train(centroids);
        var centroidIds = new long[Lists];
        for (int i = 0; i < Lists; i++) centroidIds[i] = i;
        _quantizer.Add(centroids, centroidIds);
        SetCentroids(centroids);

        if (_codec.NeedsTraining)
        {
            int sampleRows = Math.Min(rows, EncoderTrainingRows);
            float[] sample = Sample(vectors, rows, sampleRows);
            if (_codec.ByResidual)
            {
                var assigned = new long[sampleRows];
                var ignored = new float[sampleRows];
                _quantizer.Search(sample, 1, assigned, ignored);
                for (int r = 0; r < sampleRows; r++)
                    System.Numerics.Tensors.TensorPrimitives.Subtract(sample.AsSpan(r * Dimension, Dimension), CentroidOf((int)assigned[r]), sample.AsSpan(r * Dimension, Dimension));
            }
            options.CancellationToken.ThrowIfCancellationRequested();
            _codec.Train(sample, options);
        }
        _codec.SetCentroids(_centroids, Lists);
        _trained = true;
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        var seen = new HashSet<long>(rows);
        foreach (long id in ids)
        {
            if (!seen.Add(id)) throw new ArgumentException($"Id {id} appears twice in the batch; ids must be unique.", nameof(ids));
            if (_slotOf.ContainsKey(id)) throw new ArgumentException($"Id {id} is already in the index; remove it first to replace its vector.", nameof(ids));
        }
        float[]? normalized = null;
        if (Metric == Metric.Cosine)
        {
            // Normalise a copy first, so a zero row leaves the index as it was.
            normalized = vectors.ToArray();
            NormalizeForCosine(normalized, nameof(vectors));
            vectors = normalized;
        }

        int codeSize = CodeSize;
        int chunkRows = Math.Min(rows, AddChunkRows);
        var assigned = new long[chunkRows];
        var ignored = new float[chunkRows];
        var codes = new byte[(long)chunkRows * codeSize];
        var counts = new int[Lists];
        for (int first = 0; first < rows; first += chunkRows)
        {
            int n = Math.Min(chunkRows, rows - first);
            float[] chunk = vectors.Slice(first * Dimension, n * Dimension).ToArray();
            _quantizer.Search(chunk, 1, assigned.AsSpan(0, n), ignored.AsSpan(0, n));
            EncodeChunk(chunk, assigned, n, codes);

            Array.Clear(counts);
            for (int r = 0; r < n; r++) counts[assigned[r]]++;
            for (int l = 0; l < Lists; l++)
                if (counts[l] > 0) _lists[l].EnsureCapacity(_lists[l].Count + counts[l], codeSize);
            for (int r = 0; r < n; r++)
            {
                int list = (int)assigned[r];
                int offset = _lists[list].Append(ids[first + r], codes.AsSpan(r * codeSize, codeSize));
                _slotOf[ids[first + r]] = Pack(list, offset);
            }
        }
        // Doubling leaves up to half of every list empty after a bulk load; trimming costs one pass, amortised over
        // adds that grow the index by at least an eighth.
        if ((long)rows * 8 >= _slotOf.Count)
            foreach (IvfList list in _lists) list.TrimExcess(codeSize);
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids)
    {
        foreach (long id in ids)
            if (!_slotOf.ContainsKey(id))
                throw new KeyNotFoundException($"Id {id} is not in the index; nothing was removed.");
        int removed = 0;
        foreach (long id in ids)
        {
            if (!_slotOf.Remove(id, out long slot)) continue; // listed twice
            int list = (int)(slot >> 32), offset = (int)slot;
            long moved = _lists[list].RemoveAt(offset, CodeSize);
            if (moved >= 0) _slotOf[moved] = Pack(list, offset);
            removed++;
        }
        return removed;
    }

    /// <inheritdoc />
    protected override void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        int nprobe = ResolveNprobe(options);
        if (rows == 1)
        {
            // The one-query path (ann-benchmarks' loop): everything lives in the thread's scratch.
            float[]? pooled = null;
            try
            {
                ReadOnlySpan<float> query = PrepareQueries(queries, out pooled);
                IvfScratch scratch = IvfScratch.For(Dimension, _codec.TableSize, nprobe);
                Span<long> probeIds = scratch.ProbeIds.AsSpan(0, nprobe);
                Span<float> probeValues = scratch.ProbeValues.AsSpan(0, nprobe);
                if (_prunedCoarse is not null) _prunedCoarse.Search(query, probeIds, probeValues, scratch);
                else _quantizer.Search(query, nprobe, probeIds, probeValues, SingleThread);
                SearchOne(query, probeIds, ids, distances, options.Predicate, scratch);
            }
            finally
            {
                ReturnPooled(pooled);
            }
            return;
        }

        SearchBatch(queries, rows, k, nprobe, ids, distances, options);
    }

    // Apart from SearchCore so that the lambda's closure is allocated only for batches, not for single queries. The batch
    // is split into one part per thread; each part finds its queries' lists as a single query does (the pruned coarse
    // search, so a query's lists and results do not depend on its batch) and scans them list-major (IvfBatchScan), or
    // query by query for codes with per-query tables (PQ).
    private unsafe void SearchBatch(ReadOnlySpan<float> queries, int rows, int k, int nprobe, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        Func<long, bool>? filter = options.Predicate;
        int threads = options.ResolveThreads(rows);
        float[] batch = queries.ToArray();
        NormalizeForCosine(batch, nameof(queries));
        var allProbeIds = new long[(long)rows * nprobe];
        if (_prunedCoarse is null)
            _quantizer.Search(batch, nprobe, allProbeIds, new float[allProbeIds.Length], new SearchOptions { MaxDegreeOfParallelism = threads });
        int partSize = (rows + threads - 1) / threads, parts = (rows + partSize - 1) / partSize;
        fixed (float* batchPointer = batch)
        fixed (long* probePointer = allProbeIds)
        fixed (long* idPointer = ids)
        fixed (float* distancePointer = distances)
        {
            nint q = (nint)batchPointer, p = (nint)probePointer, i = (nint)idPointer, d = (nint)distancePointer;
            if (parts == 1) SearchPart(0, rows, (float*)q, (long*)p, nprobe, k, (long*)i, (float*)d, filter);
            else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
                SearchPart(part * partSize, Math.Min(partSize, rows - part * partSize), (float*)q, (long*)p, nprobe, k, (long*)i, (float*)d, filter));
        }
    }

    private unsafe void SearchPart(int first, int count, float* queries, long* probes, int nprobe, int k, long* ids, float* distances, Func<long, bool>? filter)
    {
        IvfScratch scratch = IvfScratch.For(Dimension, _codec.TableSize, nprobe);
        int dimension = Dimension;
        if (_prunedCoarse is not null)
        {
            Span<float> probeValues = scratch.ProbeValues.AsSpan(0, nprobe);
            for (int q = first; q < first + count; q++)
                _prunedCoarse.Search(new ReadOnlySpan<float>(queries + (long)q * dimension, dimension), new Span<long>(probes + (long)q * nprobe, nprobe), probeValues, scratch);
        }
        if (IvfBatchScan.Supports(_codec))
        {
            new IvfBatchScan(this, _lists, _codec, nprobe, k, filter).Run(queries, probes, first, count, ids, distances, scratch);
            return;
        }
        for (int q = first; q < first + count; q++)
            SearchOne(new ReadOnlySpan<float>(queries + (long)q * dimension, dimension), new ReadOnlySpan<long>(probes + (long)q * nprobe, nprobe),
                new Span<long>(ids + (long)q * k, k), new Span<float>(distances + (long)q * k, k), filter, scratch);
    }

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        int nprobe = ResolveNprobe(options);
        int threads = options.ResolveThreads(rows);
        float[] batch = queries.ToArray();
        NormalizeForCosine(batch, nameof(queries));
        var allProbeIds = new long[(long)rows * nprobe];
        var allProbeValues = new float[(long)rows * nprobe];
        _quantizer.Search(batch, nprobe, allProbeIds, allProbeValues, new SearchOptions { MaxDegreeOfParallelism = threads });
        return RangeHits.Search(batch, rows, Dimension, radius, _codec.Similarity, options, (query, q, hits) =>
        {
            IvfScratch scratch = IvfScratch.For(Dimension, _codec.TableSize, 0);
            _codec.BeginQuery(query, scratch);
            for (int p = 0; p < nprobe; p++)
            {
                long probe = allProbeIds[(long)q * nprobe + p];
                if (probe < 0) continue;
                IvfList list = _lists[probe];
                int n = list.Count;
                if (n == 0) continue;
                Span<float> keys = scratch.KeysFor(n);
                _codec.ComputeKeys(query, (int)probe, CentroidOf((int)probe), CoarseValue(query, (int)probe), list.Codes, n, keys, scratch);
                ReadOnlySpan<long> listIds = list.Ids;
                for (int i = 0; i < n; i++) hits.Offer(keys[i], listIds[i]);
            }
        });
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        if (!IsTrained)
            throw new InvalidOperationException("The IVF index must be trained before it is saved; call Train first.");
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        writer.WriteInt32(Lists);
        writer.WriteInt32(_nprobe);
        writer.WriteInt32((int)Encoding.Kind);
        writer.WriteInt32((int)Encoding.ScalarType);
        writer.WriteInt32(Encoding.SubQuantizers);
        writer.WriteInt32(Encoding.BitsPerCode);
        _codec.WriteTo(writer);
        writer.WriteSpan<float>(_centroids);
        writer.WriteIndex(_quantizer);
        writer.WriteInt64(NextId);
        foreach (IvfList list in _lists) writer.WriteInt32(list.Count);
        writer.WriteAligned<long>([]);
        foreach (IvfList list in _lists) writer.WriteSpan(list.Ids);
        writer.WriteAligned<byte>([]);
        foreach (IvfList list in _lists) writer.WriteSpan(list.Codes[..(list.Count * CodeSize)]);
    }

    internal static IvfIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        int lists = reader.ReadInt32("list count", 1, MaxLists);
        int nprobe = reader.ReadInt32("nprobe", 1, int.MaxValue);
        var kind = (IvfEncodingKind)reader.ReadInt32("encoding", 0, (int)IvfEncodingKind.ProductQuantizer);
        var scalarType = (ScalarQuantizerType)reader.ReadInt32("scalar quantizer type", 0, (int)ScalarQuantizerType.Fp16);
        int subQuantizers = reader.ReadInt32("sub-quantizer count", 0, dimension);
        int bits = reader.ReadInt32("bits per code", 0, 8);
        IvfEncoding encoding;
        try
        {
            encoding = kind switch
            {
                IvfEncodingKind.Flat => IvfEncoding.Flat,
                IvfEncodingKind.ScalarQuantizer => IvfEncoding.ScalarQuantizer(scalarType),
                _ => IvfEncoding.ProductQuantizer(subQuantizers, bits),
            };
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        IvfListCodec codec = ReadCodec(reader, dimension, metric, encoding);
        float[] centroids = reader.ReadArray<float>((long)lists * dimension, "centroids");
        if (!VectorValidation.InRange(centroids, dimension))
            throw reader.Corrupt("a centroid holds a non-finite value or one too large for float distances");
        IVectorIndex quantizer = reader.ReadIndex("coarse quantizer");
        if (quantizer.Count != lists)
            throw reader.Corrupt($"the coarse quantizer holds {quantizer.Count} centroids but the index has {lists} lists");
        if (CoarseQuantizerMismatch(quantizer, centroids, lists) is { } mismatch)
            throw reader.Corrupt(mismatch);
        IvfIndex index;
        try
        {
            index = new IvfIndex(dimension, lists, metric, encoding, quantizer, codec);
        }
        catch (ArgumentException e)
        {
            throw reader.Corrupt(e.Message);
        }
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        if (reader.FormatVersion < IndexFileFormat.FirstAlignedVersion)
            ReadListsVersion1(reader, index, codec, nextId);
        else
            ReadLists(reader, index, codec, nextId);
        index.SetCentroids(centroids);
        codec.SetCentroids(centroids, lists);
        index._nprobe = nprobe;
        index.NextId = nextId;
        index._trained = true;
        return index;
    }

    // Version 2 on: every list's size, then all ids and all codes, each run list after list and starting on an aligned
    // offset, so a mapped file's lists are slices of two arrays (Faiss's OnDiskInvertedLists instead gives each list a slot of
    // codes then ids, with an offset table, because it also grows lists in place; these files are written once).
    private static unsafe void ReadLists(IndexPayloadReader reader, IvfIndex index, IvfListCodec codec, long nextId)
    {
        int lists = index._lists.Length, codeSize = codec.CodeSize;
        int[] counts = reader.ReadArray<int>(lists, "list sizes");
        long total = 0;
        for (int l = 0; l < lists; l++)
        {
            if (counts[l] < 0 || counts[l] > Array.MaxLength / Math.Max(codeSize, sizeof(long)))
                throw reader.Corrupt($"list {l} declares {counts[l]} entries");
            total += counts[l];
        }
        if (reader.Mapping is not null)
        {
            // Lists stay in the file, only their sizes are read: a file larger than memory opens and searches. Ids are not
            // scanned (they are labels, never offsets); the id map Contains and Reconstruct need is built on first use.
            long* ids = reader.MapAligned<long>(total, "list ids");
            byte* codes = reader.MapAligned<byte>(total * codeSize, "list codes");
            for (int l = 0; l < lists; l++)
            {
                index._lists[l].Map(ids, codes, counts[l], codeSize);
                ids += counts[l];
                codes += (long)counts[l] * codeSize;
            }
            index._mappedEntries = total;
            index._slotsPending = true;
            return;
        }
        var listIds = new long[lists][];
        for (int l = 0; l < lists; l++)
        {
            listIds[l] = l == 0 ? reader.ReadAlignedArray<long>(counts[l], "list ids") : reader.ReadArray<long>(counts[l], "list ids");
            AddToSlotMap(reader, index, l, listIds[l], nextId);
        }
        for (int l = 0; l < lists; l++)
        {
            long bytes = (long)counts[l] * codeSize;
            byte[] codes = l == 0 ? reader.ReadAlignedArray<byte>(bytes, "list codes") : reader.ReadArray<byte>(bytes, "list codes");
            if (codec.CheckCodes(codes) is { } problem) throw reader.Corrupt($"list {l}: {problem}");
            index._lists[l].Load(listIds[l], codes);
        }
    }

    // Version 1: each list's size, ids and codes in turn.
    private static void ReadListsVersion1(IndexPayloadReader reader, IvfIndex index, IvfListCodec codec, long nextId)
    {
        int codeSize = codec.CodeSize;
        for (int l = 0; l < index._lists.Length; l++)
        {
            // ReadArray checks each declared size against the bytes left before allocating.
            int count = reader.ReadInt32("list size", 0, Array.MaxLength / Math.Max(codeSize, sizeof(long)));
            long[] ids = reader.ReadArray<long>(count, "list ids");
            byte[] codes = reader.ReadArray<byte>((long)count * codeSize, "list codes");
            if (codec.CheckCodes(codes) is { } problem) throw reader.Corrupt($"list {l}: {problem}");
            index._lists[l].Load(ids, codes);
            AddToSlotMap(reader, index, l, ids, nextId);
        }
    }

    private static void AddToSlotMap(IndexPayloadReader reader, IvfIndex index, int list, long[] ids, long nextId)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            long id = ids[i];
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} in list {list} is negative or not below the next id {nextId}");
            if (!index._slotOf.TryAdd(id, Pack(list, i))) throw reader.Corrupt($"id {id} is stored twice");
        }
    }

    // Save writes the coarse quantizer holding centroid l under id l; a file where it does not (ids outside 0..lists−1, or
    // centroids swapped) would crash a search or send queries to the wrong lists, so loading checks it.
    private static string? CoarseQuantizerMismatch(IVectorIndex quantizer, float[] centroids, int lists)
    {
        int d = quantizer.Dimension;
        if ((long)d * lists != centroids.Length)
            return $"the coarse quantizer has dimension {d} but the index's {lists} centroids hold {centroids.Length} values";
        var stored = quantizer.Reconstruction == ReconstructionKind.Exact ? new float[d] : null;
        for (int l = 0; l < lists; l++)
        {
            if (!quantizer.Contains(l))
                return $"the coarse quantizer's ids are not the list numbers 0 to {lists - 1} (list {l} has no centroid in it)";
            if (stored is null) continue;
            quantizer.Reconstruct(l, stored);
            ReadOnlySpan<float> centroid = centroids.AsSpan(l * d, d);
            for (int j = 0; j < d; j++)
                if (!(MathF.Abs(stored[j] - centroid[j]) <= 1e-5f * MathF.Max(1f, MathF.Abs(centroid[j]))))
                    return $"the coarse quantizer's vector {l} differs from centroid {l} (component {j}: {stored[j]} against {centroid[j]})";
        }
        return null;
    }

    private static IIndex? ParseToken(IndexFactoryCursor cursor)
    {
        if (!IndexFactoryCursor.TryMatch(cursor.Token, "IVF", out string rest)) return null;
        string[] parts = rest.Split('_');
        if (parts.Length > 2 || !IndexFactoryCursor.TryParseCount(parts[0], out int lists))
            throw cursor.Error("needs the list count as a whole number, optionally with an HNSW coarse quantizer, e.g. IVF1024 or IVF65536_HNSW32");
        Metric metric = cursor.FloatMetric;
        int width = cursor.Dimension, at = cursor.Index;
        IVectorIndex? coarse = null;
        if (parts.Length == 2)
        {
            if (!IndexFactoryCursor.TryMatch(parts[1], "HNSW", out string links) || !IndexFactoryCursor.TryParseCount(links, out int m) || m is < 2 or > 1024)
                throw cursor.Error("names an unknown coarse quantizer after the underscore; only HNSW<M> (M from 2 to 1024) may follow it, e.g. IVF65536_HNSW32");
            coarse = new HnswIndex(width, metric == Metric.L2 ? Metric.L2 : Metric.InnerProduct, m);
        }
        cursor.TakeNext("a list encoding (Flat, SQ8, SQ4, SQfp16, PQ<M> or PQ<M>x<bits>), e.g. IVF1024,Flat");
        IvfEncoding encoding = IvfEncoding.ParseToken(cursor);
        try
        {
            return new IvfIndex(width, lists, metric, encoding, coarse);
        }
        catch (ArgumentException e)
        {
            throw cursor.ErrorAt(at, $"does not fit here: {e.Message}");
        }
    }

    private static IvfListCodec CreateCodec(int dimension, Metric metric, IvfEncoding encoding)
    {
        bool similarity = metric != Metric.L2;
        return encoding.Kind switch
        {
            IvfEncodingKind.Flat => new IvfFlatCodec(dimension, similarity),
            IvfEncodingKind.ScalarQuantizer => new IvfScalarCodec(new ScalarQuantizer(dimension, encoding.ScalarType), similarity),
            _ => new IvfProductCodec(new ProductQuantizer(dimension, encoding.SubQuantizers, encoding.BitsPerCode), similarity),
        };
    }

    private static IvfListCodec ReadCodec(IndexPayloadReader reader, int dimension, Metric metric, IvfEncoding encoding)
    {
        bool similarity = metric != Metric.L2;
        switch (encoding.Kind)
        {
            case IvfEncodingKind.Flat:
                return new IvfFlatCodec(dimension, similarity);
            case IvfEncodingKind.ScalarQuantizer:
                ScalarQuantizer quantizer = ScalarQuantizer.ReadFrom(reader, dimension);
                if (quantizer.Type != encoding.ScalarType)
                    throw reader.Corrupt($"the encoding says {encoding.ScalarType} but the quantizer is {quantizer.Type}");
                return new IvfScalarCodec(quantizer, similarity);
            default:
                ProductQuantizer product = ProductQuantizer.ReadFrom(reader, dimension);
                if (product.SubQuantizers != encoding.SubQuantizers || product.BitsPerCode != encoding.BitsPerCode)
                    throw reader.Corrupt($"the encoding says {encoding} but the product quantizer has {product.SubQuantizers} sub-quantizers of {product.BitsPerCode} bits");
                return new IvfProductCodec(product, similarity);
        }
    }

    private void SearchOne(ReadOnlySpan<float> query, ReadOnlySpan<long> probeIds,
        Span<long> ids, Span<float> distances, Func<long, bool>? filter, IvfScratch scratch)
    {
        IvfListCodec codec = _codec;
        codec.BeginQuery(query, scratch);
        var heap = new TopKHeap(distances, ids);
        for (int p = 0; p < probeIds.Length; p++)
        {
            long probe = probeIds[p];
            if (probe < 0) continue; // a graph quantizer may find fewer lists than asked
            IvfList list = _lists[probe];
            int n = list.Count;
            if (n == 0) continue;
            if (filter is not null && OfferAllowed(query, (int)probe, list, filter, ref heap, scratch)) continue;
            Span<float> keys = scratch.KeysFor(n);
            codec.ComputeKeys(query, (int)probe, CentroidOf((int)probe), CoarseValue(query, (int)probe), list.Codes, n, keys, scratch);
            ReadOnlySpan<long> listIds = list.Ids;
            for (int i = 0; i < keys.Length; i++)
            {
                float key = keys[i];
                if (key > heap.Threshold) continue;
                long id = listIds[i];
                if (filter is null || filter(id)) heap.Push(key, id);
            }
        }
        int found = heap.SortAndPad();
        if (codec.Similarity)
            for (int j = 0; j < found; j++) distances[j] = -distances[j];
    }

    // Scores only the rows of a list the filter allows: raw floats in place (four gathered rows at a time, keys
    // bit-identical to the full scan's), codes gathered into a buffer first when the filter rejects at least half of
    // them. Returns false, having offered nothing, when most codes pass and scoring the whole list is cheaper.
    private bool OfferAllowed(ReadOnlySpan<float> query, int probe, IvfList list, Func<long, bool> filter, ref TopKHeap heap, IvfScratch scratch)
    {
        int n = list.Count, codeSize = CodeSize;
        Span<int> rows = scratch.RowsFor(n);
        ReadOnlySpan<long> listIds = list.Ids;
        int allowed = 0;
        for (int i = 0; i < n; i++)
            if (filter(listIds[i])) rows[allowed++] = i;
        if (allowed == 0) return true;
        if (allowed == n) return false; // the contiguous scan is the cheaper way to score every row
        if (_codec.Codec is FloatCodec floats)
        {
            Span<float> rowKeys = scratch.KeysFor(allowed);
            floats.KeysOfRows(query, list.Codes, rows[..allowed], rowKeys);
            for (int j = 0; j < allowed; j++)
                if (rowKeys[j] <= heap.Threshold) heap.Push(rowKeys[j], listIds[rows[j]]);
            return true;
        }
        if (allowed * 2 > n) return false;
        Span<byte> codes = scratch.CodesFor(allowed * codeSize);
        ReadOnlySpan<byte> listCodes = list.Codes;
        for (int j = 0; j < allowed; j++)
            listCodes.Slice(rows[j] * codeSize, codeSize).CopyTo(codes.Slice(j * codeSize, codeSize));
        Span<float> keys = scratch.KeysFor(allowed);
        _codec.ComputeKeys(query, probe, CentroidOf(probe), CoarseValue(query, probe), codes, allowed, keys, scratch);
        for (int j = 0; j < allowed; j++)
            if (keys[j] <= heap.Threshold) heap.Push(keys[j], listIds[rows[j]]);
        return true;
    }

    private void EncodeChunk(float[] chunk, long[] assigned, int rows, byte[] codes)
    {
        int codeSize = CodeSize;
        if (!_codec.ByResidual)
        {
            for (int r = 0; r < rows; r++)
                _codec.Encode(chunk.AsSpan(r * Dimension, Dimension), codes.AsSpan(r * codeSize, codeSize));
            return;
        }
        const int Block = 256;
        int blocks = (rows + Block - 1) / Block;
        Parallel.For(0, blocks, block =>
        {
            float[] residual = ArrayPool<float>.Shared.Rent(Dimension);
            try
            {
                Span<float> r = residual.AsSpan(0, Dimension);
                for (int row = block * Block; row < Math.Min(rows, (block + 1) * Block); row++)
                {
                    System.Numerics.Tensors.TensorPrimitives.Subtract(chunk.AsSpan(row * Dimension, Dimension), CentroidOf((int)assigned[row]), r);
                    _codec.Encode(r, codes.AsSpan(row * codeSize, codeSize));
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(residual);
            }
        });
    }

    // Recomputed rather than taken from the coarse search, whose batched kernels round differently from its
    // single-query path: a query's results must not depend on the batch it came in. Only residual codecs use it.
    internal float CoarseValue(ReadOnlySpan<float> query, int list)
    {
        if (!_codec.ByResidual) return 0f;
        ReadOnlySpan<float> centroid = CentroidOf(list);
        return _codec.Similarity ? Distances.Distance.InnerProduct(query, centroid) : Distances.Distance.SquaredL2(query, centroid);
    }

    private void SetCentroids(float[] centroids)
    {
        _centroids = centroids;
        _prunedCoarse = _quantizer is FlatIndex ? PrunedCentroidSearch.TryCreate(centroids, Lists, Dimension, innerProduct: Metric != Metric.L2) : null;
    }

    internal ReadOnlySpan<float> CentroidOf(int list) => _centroids.AsSpan(list * Dimension, Dimension);

    private int ResolveNprobe(SearchOptions options)
    {
        int nprobe = options is IvfSearchOptions { Nprobe: { } perCall } ? CheckNprobe(perCall, nameof(IvfSearchOptions.Nprobe)) : _nprobe;
        return Math.Min(nprobe, Lists);
    }

    private static int CheckNprobe(int value, string parameterName)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(parameterName, value, "nprobe (lists scanned per query) must be positive.");
        return value;
    }

    private float[] Sample(ReadOnlySpan<float> vectors, int rows, int sampleRows)
    {
        if (sampleRows == rows) return vectors.ToArray();
        // A seeded partial Fisher–Yates shuffle picks sampleRows distinct rows.
        var random = new Random(Seed);
        var order = new int[rows];
        for (int i = 0; i < rows; i++) order[i] = i;
        var sample = new float[(long)sampleRows * Dimension];
        for (int i = 0; i < sampleRows; i++)
        {
            int j = random.Next(i, rows);
            (order[i], order[j]) = (order[j], order[i]);
            vectors.Slice(order[i] * Dimension, Dimension).CopyTo(sample.AsSpan(i * Dimension, Dimension));
        }
        return sample;
    }

    private static long Pack(int list, int offset) => ((long)list << 32) | (uint)offset;
}
