using System.Buffers;
using DeepRetrieval.Clustering;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// An inverted-file index (Faiss <c>IndexIVF</c>): k-means splits the space into <see cref="Lists"/> cells, each
/// vector is stored in the list of its nearest centroid, and a query scans only the <see cref="Nprobe"/> lists whose
/// centroids are nearest to it. Lists hold raw floats, scalar-quantized residuals or product-quantized residuals
/// (see <see cref="IvfEncoding"/>).
/// </summary>
/// <remarks>
/// <para>The centroids live in a coarse quantizer, itself an index: a <see cref="FlatIndex"/> by default, or an
/// <see cref="HnswIndex"/> when there are tens of thousands of lists (Faiss's <c>IVF65536_HNSW32</c>).</para>
/// <para>Training runs seeded k-means (<see cref="TrainingIterations"/> iterations, at most 256 points per centroid)
/// and then trains the list encoding on the residuals of at most 131,072 training vectors. Training needs at least
/// as many vectors as lists, and is refused once vectors are stored.</para>
/// <para>Adds assign a batch to lists through one batched coarse search and encode it on all cores. Each list keeps
/// its codes and ids in two contiguous arrays. Removing an id moves its list's last entry into the hole.</para>
/// <para><see cref="Nprobe"/> defaults to 1, as in Faiss; set it with <c>SetSearchParameter("nprobe", n)</c>, the
/// property, or per call with <see cref="IvfSearchOptions"/>. A value above <see cref="Lists"/> probes every list
/// (it is clamped, as Faiss does); zero or negative is rejected. Probing every list of a flat IVF gives exact results.</para>
/// <para>For <see cref="Metric.Cosine"/> vectors and queries are normalised, clustering is spherical and everything
/// else is inner product. Reported distances are those to the stored (decoded) vectors; equal distances are ordered
/// by ascending id. Searches may run concurrently with each other; training, adds and removes must not overlap
/// anything else.</para>
/// </remarks>
public sealed class IvfIndex : VectorIndex
{
    /// <summary>The kind name used by the index file.</summary>
    internal const string KindName = "IVF";

    private const int MaxLists = 1 << 24;
    private const int EncoderTrainingRows = 1 << 17;
    private const int AddChunkRows = 1 << 14;
    private const long SlotEntryBytes = 24; // dictionary key, value, hash code, next link

    private static readonly SearchOptions SingleThread = new() { MaxDegreeOfParallelism = 1 };

    private readonly IVectorIndex _quantizer;
    private readonly IvfListCodec _codec;
    private readonly IvfList[] _lists;
    private readonly Dictionary<long, long> _slotOf = []; // id → (list << 32) | offset
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
    public override long Count => _slotOf.Count;

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

    /// <summary>True when <paramref name="id"/> is stored.</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id) => _slotOf.ContainsKey(id);

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
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows)
    {
        if (Count > 0)
            throw new InvalidOperationException($"The IVF index already holds {Count} vectors assigned to the current centroids; retraining would invalidate them. Create a new index instead.");
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
            Metric = Metric == Metric.L2 ? Metric.L2 : Metric.InnerProduct,
            Spherical = Metric == Metric.Cosine,
        });
        float[] centroids = kmeans.Train(vectors, Dimension).Centroids;

        _trained = false; // until the encoding is trained on the new centroids' residuals too
        if (_quantizer.Count > 0)
        {
            // A trained but empty index being retrained: forget the old centroids.
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
            _codec.Train(sample);
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
                SearchOne(query, probeIds, ids, distances, options.Filter, scratch);
            }
            finally
            {
                ReturnPooled(pooled);
            }
            return;
        }

        SearchBatch(queries, rows, k, nprobe, ids, distances, options);
    }

    // Apart from SearchCore so that the lambda's closure is allocated only for batches, not for single queries.
    private void SearchBatch(ReadOnlySpan<float> queries, int rows, int k, int nprobe, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        // One batched coarse search (matrix-multiply speed for a flat quantizer), then the lists per query.
        Func<long, bool>? filter = options.Filter;
        int threads = options.ResolveThreads(rows);
        float[] batch = queries.ToArray();
        NormalizeForCosine(batch, nameof(queries));
        var allProbeIds = new long[(long)rows * nprobe];
        var allProbeValues = new float[(long)rows * nprobe];
        _quantizer.Search(batch, nprobe, allProbeIds, allProbeValues, new SearchOptions { MaxDegreeOfParallelism = threads });
        if (threads == 1)
        {
            IvfScratch scratch = IvfScratch.For(Dimension, _codec.TableSize, 0);
            for (int q = 0; q < rows; q++)
                SearchOne(batch.AsSpan(q * Dimension, Dimension), allProbeIds.AsSpan(q * nprobe, nprobe),
                    ids.Slice(q * k, k), distances.Slice(q * k, k), filter, scratch);
            return;
        }
        var outIds = new long[ids.Length];
        var outDistances = new float[distances.Length];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, q =>
            SearchOne(batch.AsSpan(q * Dimension, Dimension), allProbeIds.AsSpan(q * nprobe, nprobe),
                outIds.AsSpan(q * k, k), outDistances.AsSpan(q * k, k), filter, IvfScratch.For(Dimension, _codec.TableSize, 0)));
        outIds.CopyTo(ids);
        outDistances.CopyTo(distances);
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
        Func<long, bool>? filter = options.Filter;
        bool similarity = _codec.Similarity;
        var perQuery = new List<(float Key, long Id)>[rows];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, q =>
        {
            ReadOnlySpan<float> query = batch.AsSpan(q * Dimension, Dimension);
            IvfScratch scratch = IvfScratch.For(Dimension, _codec.TableSize, 0);
            _codec.BeginQuery(query, scratch);
            var found = new List<(float Key, long Id)>();
            for (int p = 0; p < nprobe; p++)
            {
                long probe = allProbeIds[(long)q * nprobe + p];
                if (probe < 0) continue;
                IvfList list = _lists[probe];
                int n = list.Count;
                if (n == 0) continue;
                Span<float> keys = scratch.KeysFor(n);
                _codec.ComputeKeys(query, (int)probe, CentroidOf((int)probe), CoarseValue(query, (int)probe), list.Codes, n, keys, scratch);
                for (int i = 0; i < n; i++)
                {
                    // Keys are distances or negated similarities: results have distance < radius or similarity > radius.
                    bool inside = similarity ? -keys[i] > radius : keys[i] < radius;
                    if (inside && (filter is null || filter(list.Ids[i]))) found.Add((keys[i], list.Ids[i]));
                }
            }
            perQuery[q] = found;
        });

        return RangeSearchResult.Concatenate(perQuery, similarity);
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
        foreach (IvfList list in _lists)
        {
            writer.WriteInt32(list.Count);
            writer.WriteSpan<long>(list.Ids.AsSpan(0, list.Count));
            writer.WriteSpan<byte>(list.Codes.AsSpan(0, list.Count * CodeSize));
        }
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
        if (!FiniteValues.All(centroids))
            throw reader.Corrupt("a centroid holds a non-finite value");
        IVectorIndex quantizer = reader.ReadIndex("coarse quantizer");
        if (quantizer.Count != lists)
            throw reader.Corrupt($"the coarse quantizer holds {quantizer.Count} centroids but the index has {lists} lists");
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
        int codeSize = codec.CodeSize;
        for (int l = 0; l < lists; l++)
        {
            // ReadArray checks each declared size against the bytes left before allocating.
            int count = reader.ReadInt32("list size", 0, Array.MaxLength / Math.Max(codeSize, sizeof(long)));
            long[] ids = reader.ReadArray<long>(count, "list ids");
            byte[] codes = reader.ReadArray<byte>((long)count * codeSize, "list codes");
            if (codec.CheckCodes(codes) is { } problem) throw reader.Corrupt($"list {l}: {problem}");
            IvfList list = index._lists[l];
            list.Ids = ids;
            list.Codes = codes;
            list.Count = count;
            for (int i = 0; i < count; i++)
            {
                long id = ids[i];
                if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} in list {l} is negative or not below the next id {nextId}");
                if (!index._slotOf.TryAdd(id, Pack(l, i))) throw reader.Corrupt($"id {id} is stored twice");
            }
        }
        index.SetCentroids(centroids);
        codec.SetCentroids(centroids, lists);
        index._nprobe = nprobe;
        index.NextId = nextId;
        index._trained = true;
        return index;
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
            Span<float> keys = scratch.KeysFor(n);
            codec.ComputeKeys(query, (int)probe, CentroidOf((int)probe), CoarseValue(query, (int)probe), list.Codes, n, keys, scratch);
            long[] listIds = list.Ids;
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
    private float CoarseValue(ReadOnlySpan<float> query, int list)
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

    private ReadOnlySpan<float> CentroidOf(int list) => _centroids.AsSpan(list * Dimension, Dimension);

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
