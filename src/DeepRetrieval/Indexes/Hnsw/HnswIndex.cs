using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Hnsw;

/// <summary>
/// Approximate search on a hierarchical navigable small-world graph (Malkov &amp; Yashunin, as hnswlib):
/// greedy descent through the sparse upper layers, then a beam search of width <c>ef</c> on layer 0.
/// Neighbours are chosen with the paper's heuristic (Algorithm 4, hnswlib's <c>getNeighborsByHeuristic2</c>).
/// </summary>
/// <remarks>
/// <para>Storage: raw floats, scalar-quantized codes (SQ8, SQ4, fp16; Faiss's <c>IndexHNSWSQ</c>, factory
/// <c>HNSW32,SQ8</c>) that cut memory per vector by 4× (SQ8) at a small cost in recall, or product-quantized codes
/// (Faiss's <c>IndexHNSWPQ</c>, factory <c>HNSW32,PQ16</c>, <see cref="WithProductQuantizer"/>) that cut it further.
/// SQ codes are compared with the float query directly; PQ codes through one ADC table per query (M lookups per node).
/// While building, a new node searches with its original floats and stored nodes are compared through their decoded
/// codes. A quantized index must be trained before vectors are added. The graph and its algorithms are
/// <c>HnswGraph</c>'s; this type owns the storage codec, the ids and the file.</para>
/// <para>Layout: all vectors (or codes) in one row-major array (row = internal slot), layer-0 links in one array of
/// <c>2M + 1</c> ints per slot (count, then neighbours), upper-layer links only for the few nodes that reach
/// those layers. Searches reuse per-thread visited stamps and heaps and allocate nothing per query once warm.</para>
/// <para>Thread safety, in short: searches, range searches, <see cref="Contains"/>, <see cref="VectorIndex.Reconstruct"/>,
/// <see cref="GetIds"/> and saves may run beside adds and removes; adds, removes, saves and <see cref="GetIds"/> take
/// turns on the write lock; training (SQ or PQ codes) and <c>SetSearchParameter</c> must not overlap anything else (the
/// table is in docs/indexes.md; a stress test of adds, removes, searches, saves and reloads holds it).</para>
/// <para>Concurrency: searches may run concurrently with each other and with <see cref="VectorIndex.Add(ReadOnlySpan{float}, ReadOnlySpan{long}, IndexBuildOptions?)"/>
/// and <see cref="VectorIndex.Remove"/> (a search may or may not see vectors added or removed while it runs,
/// and never returns an id that was not added), as may <see cref="Contains"/> and <see cref="VectorIndex.Reconstruct"/>
/// (the id map is lock-free); adds, removes and saves are serialised with each other, the next id is raised under the
/// same lock, so a save always records one consistent state, and automatic ids are reserved atomically, so several
/// threads may add with automatic ids at once. A large add inserts its rows in parallel on
/// <see cref="BuildThreads"/> threads, locking each neighbour list while it is read or rewritten (4,096 lock
/// stripes; hnswlib has one lock per node), so the graph then depends on
/// thread timing; with one build thread it is deterministic for a given <see cref="Seed"/>.</para>
/// <para>Removal is a tombstone plus repair: the node is never returned again, and every live node that linked
/// to it is relinked by the paper's heuristic among its surviving links and the removed node's (FreshDiskANN's delete
/// consolidation), so searches stop passing through removed nodes. That pass reads every neighbour list, so remove
/// in batches; the removed nodes' memory is not reclaimed. Filtered nodes still route searches but are not
/// returned; a selective filter (<see cref="SearchOptions.Selector"/> or <see cref="SearchOptions.Filter"/>) switches to
/// an exact scan of the allowed nodes (<see cref="HnswSearchOptions.ExactScanThreshold"/>). <see cref="VectorIndex.RangeSearch"/> is approximate: it runs
/// the k-NN search with k = ef, doubling ef (from at least 32) until the ef-th result lies outside the radius
/// or ef covers every node; it never returns a vector outside the radius but may miss some inside it.</para>
/// </remarks>
public sealed class HnswIndex : VectorIndex
{
    /// <summary>The kind name of an index over raw floats.</summary>
    public const string KindName = IndexKinds.Hnsw;

    /// <summary>The kind name of an index over scalar-quantized codes.</summary>
    public const string QuantizedKindName = IndexKinds.HnswScalarQuantized;

    /// <summary>The kind name of an index over product-quantized codes.</summary>
    public const string ProductQuantizedKindName = IndexKinds.HnswProductQuantized;

    // HNSW<M>[,Flat|SQ8|SQ4|SQfp16|PQ<M>[x<bits>]]: the storage token after the graph's is optional, Flat when absent.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = ParseToken,
        FactorySyntax = "HNSW<M>[,Flat|SQ8|SQ4|SQfp16|PQ<M>[x<bits>]]",
    };

    internal static readonly IndexKindDescriptor QuantizedRegistration = new(QuantizedKindName, ReadQuantizedPayload);

    internal static readonly IndexKindDescriptor ProductQuantizedRegistration = new(ProductQuantizedKindName, ReadProductQuantizedPayload);

    /// <summary>The default number of links per node on the upper layers.</summary>
    public const int DefaultM = 16;

    /// <summary>The default beam width while building.</summary>
    public const int DefaultEfConstruction = 200;

    /// <summary>The default beam width while searching.</summary>
    public const int DefaultEfSearch = 16;

    private const int SelectivitySamples = 512;
    private const long SlotEntryBytes = 48; // concurrent dictionary node (header, key, value, hash, next) and its bucket

    private enum Storage { Floats, Scalar, Product }

    private readonly Storage _storage;
    private readonly VectorCodec _codec;
    private readonly HnswGraph _graph;
    private readonly Lock _writeLock = new();
    // While every live node's id is its slot (rows added without ids, as hnswlib's users add labels 0..n-1), the slot is
    // the id and no map is kept: 48 bytes per vector saved. The first id that differs from its slot builds the map, which
    // is kept from then on. Lock-free reads: Contains and Reconstruct run beside adds and removes, which change the map
    // (and this flag) under the write lock.
    private volatile bool _slotsAreIds = true;
    private readonly ConcurrentDictionary<long, int> _slotOf = new();
    // A mapped index whose ids are not its slots fills _slotOf on the first lookup, so opening a million nodes builds no dictionary.
    private volatile bool _slotsPending;
    private int _efSearch = DefaultEfSearch;
    private int _buildThreads;

    /// <summary>Creates an empty HNSW index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="m">Links per node on the upper layers (2M on layer 0); 2 to 1024.</param>
    /// <param name="efConstruction">Beam width while building; positive.</param>
    /// <param name="seed">Seeds the level of each node.</param>
    public HnswIndex(int dimension, Metric metric = Metric.L2, int m = DefaultM, int efConstruction = DefaultEfConstruction, int seed = 100)
        : this(dimension, metric, Storage.Floats, new FloatCodec(dimension, metric != Metric.L2), m, efConstruction, seed)
    {
    }

    /// <summary>Creates an empty HNSW index that stores scalar-quantized codes instead of floats; train it before adding.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="storage">How vectors are encoded (SQ8: one byte per component).</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="m">Links per node on the upper layers (2M on layer 0); 2 to 1024.</param>
    /// <param name="efConstruction">Beam width while building; positive.</param>
    /// <param name="seed">Seeds the level of each node.</param>
    public HnswIndex(int dimension, ScalarQuantizerType storage, Metric metric = Metric.L2, int m = DefaultM, int efConstruction = DefaultEfConstruction, int seed = 100)
        : this(dimension, metric, Storage.Scalar, new ScalarCodec(new ScalarQuantizer(dimension, storage), metric != Metric.L2), m, efConstruction, seed)
    {
    }

    private HnswIndex(int dimension, Metric metric, Storage storage, VectorCodec codec, int m, int efConstruction, int seed)
        : base(dimension, metric)
    {
        _storage = storage;
        _codec = codec;
        _graph = new HnswGraph(codec, m, efConstruction, seed);
    }

    /// <summary>
    /// Creates an empty HNSW index that stores product-quantized codes (Faiss's <c>IndexHNSWPQ</c>, factory
    /// <c>HNSW32,PQ16</c>); train it before adding. A search compares the query with the codes through one table of
    /// M × 2^bits partial distances; reported distances are those to the decoded codes.
    /// </summary>
    /// <param name="dimension">Components per vector; a multiple of <paramref name="subQuantizers"/>.</param>
    /// <param name="subQuantizers">Sub-quantizers M (bytes per code at 8 bits).</param>
    /// <param name="bitsPerCode">Bits per sub-code, 4 to 8.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="m">Links per node on the upper layers (2M on layer 0); 2 to 1024.</param>
    /// <param name="efConstruction">Beam width while building; positive.</param>
    /// <param name="seed">Seeds the level of each node.</param>
    /// <exception cref="ArgumentException">The dimension is not a multiple of M, or a parameter is out of range.</exception>
    public static HnswIndex WithProductQuantizer(int dimension, int subQuantizers, int bitsPerCode = 8, Metric metric = Metric.L2,
        int m = DefaultM, int efConstruction = DefaultEfConstruction, int seed = 100)
    {
        var quantizer = new ProductQuantizer(dimension, subQuantizers, bitsPerCode);
        return new HnswIndex(dimension, metric, Storage.Product, new ProductCodec(quantizer, metric != Metric.L2), m, efConstruction, seed);
    }

    /// <inheritdoc />
    public override long Count => _graph.Live;

    /// <inheritdoc />
    public override string Kind => _storage switch
    {
        Storage.Floats => KindName,
        Storage.Scalar => QuantizedKindName,
        _ => ProductQuantizedKindName,
    };

    /// <inheritdoc />
    public override bool IsTrained => _codec.IsTrained;

    /// <summary>The encoding of stored vectors when they are scalar-quantized, or null (floats or PQ codes).</summary>
    public ScalarQuantizerType? Quantization => (_codec as ScalarCodec)?.Quantizer.Type;

    /// <summary>The product quantizer of stored vectors when they are PQ codes (its codebooks once trained), or null.</summary>
    public ProductQuantizer? ProductQuantizer => (_codec as ProductCodec)?.Quantizer;

    /// <summary>The storage as a factory token: <c>Flat</c>, <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>, <c>PQ16</c>, <c>PQ16x4</c>…</summary>
    public string StorageToken => _codec switch
    {
        ScalarCodec scalar => IvfEncoding.ScalarQuantizer(scalar.Quantizer.Type).ToString(),
        ProductCodec product => IvfEncoding.ProductQuantizer(product.Quantizer.SubQuantizers, product.Quantizer.BitsPerCode).ToString(),
        _ => FlatIndex.KindName,
    };

    /// <summary>Links per node on the upper layers; layer 0 allows twice as many.</summary>
    public int M => _graph.M;

    /// <summary>Beam width used while building.</summary>
    public int EfConstruction => _graph.EfConstruction;

    /// <summary>The seed of the level generator.</summary>
    public int Seed => _graph.Seed;

    /// <summary>Default beam width on layer 0 while searching; also set by <c>SetSearchParameter("ef", v)</c>.</summary>
    public int EfSearch
    {
        get => _efSearch;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(EfSearch));
            _efSearch = value;
        }
    }

    /// <summary>Threads a large add inserts with; 0 (the default) means <see cref="Environment.ProcessorCount"/>.</summary>
    public int BuildThreads
    {
        get => _buildThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(BuildThreads));
            _buildThreads = value;
        }
    }

    /// <summary>
    /// Whether an add that grows the graph, or a remove that shrinks it, by at least an eighth ends with
    /// <see cref="RepairConnectivity"/> (default true). Pruning neighbour lists, in parallel builds especially, and
    /// relinking around removed nodes can leave a node that no layer-0 search from the entry point reaches; such a node
    /// would never be returned.
    /// </summary>
    public bool AutoRepair { get; set; } = true;

    /// <summary>
    /// Finds nodes that a layer-0 walk from the entry point cannot reach and links each one from the nearest reachable node
    /// whose layer-0 list has room (the search beam's first, then any); only when none has room does it replace a node's
    /// farthest link whose target another reachable node also links to (a replaced link can strand what hangs off it).
    /// Runs under the write lock; concurrent searches stay valid.
    /// </summary>
    /// <returns>How many nodes were relinked.</returns>
    /// <exception cref="NotSupportedException">The index is mapped read-only (<see cref="IndexFile.Map"/>).</exception>
    public int RepairConnectivity()
    {
        RequireWritable("repaired");
        lock (_writeLock) return _graph.RepairConnectivity();
    }

    /// <summary>How many live nodes a layer-0 walk from the entry point cannot reach (0 for a healthy graph).</summary>
    public int CountUnreachable()
    {
        using var lease = LeaseMapping();
        lock (_writeLock) return _graph.CountUnreachable();
    }

    // For tests: live nodes that still link to a removed one (0 after every Remove).
    internal int CountLinksToRemoved()
    {
        lock (_writeLock) return _graph.CountLinksToRemoved();
    }

    /// <summary>Graph slots in use, removed (tombstoned) nodes included.</summary>
    public int SlotCount => _graph.Count;

    /// <inheritdoc />
    public override long MemoryUsageBytes
    {
        get
        {
            lock (_writeLock) return _graph.MemoryUsageBytes + _slotOf.Count * SlotEntryBytes + _codec.MemoryUsageBytes;
        }
    }

    /// <summary>Exact for float storage; the decoded code for SQ8, SQ4, fp16 and PQ storage.</summary>
    public override ReconstructionKind Reconstruction => _codec.IsExact ? ReconstructionKind.Exact : ReconstructionKind.Approximate;

    /// <summary>True when <paramref name="id"/> is stored and not removed. Lock-free: safe during concurrent adds and removes.</summary>
    /// <param name="id">The id.</param>
    public override bool Contains(long id) => TryGetSlot(id, out _);

    /// <summary>The live ids in slot order, taken under the write lock (one consistent state).</summary>
    public override long[] GetIds()
    {
        lock (_writeLock)
        {
            HnswGraph.Storage s = _graph.Nodes;
            var ids = new long[_graph.Live];
            int n = 0;
            for (int slot = 0; slot < _graph.Count; slot++)
                if (s.Deleted[slot] == 0) ids[n++] = s.Ids[slot];
            return ids;
        }
    }

    /// <inheritdoc />
    /// <remarks>Lock-free: a node's row is written before its id is published, and storage only grows.</remarks>
    protected override void ReconstructCore(long id, Span<float> destination)
    {
        if (!TryGetSlot(id, out int slot)) throw new KeyNotFoundException($"Id {id} is not in the index.");
        _codec.Decode(_graph.Row(slot), destination);
    }

    /// <summary>The slot of the live node labelled <paramref name="id"/>. Lock-free.</summary>
    private bool TryGetSlot(long id, out int slot)
    {
        if (_slotsAreIds)
        {
            slot = (int)id;
            return _graph.IsLiveSlotOfLabel(id);
        }
        if (_slotsPending) BuildMappedSlotMap();
        return _slotOf.TryGetValue(id, out slot);
    }

    // Only mapped indexes get here (they are read-only, so the nodes do not change while the map is built).
    private void BuildMappedSlotMap()
    {
        lock (_writeLock)
        {
            if (!_slotsPending) return;
            if (!TryFillSlotMap(out long duplicate))
                throw new InvalidDataException($"{Mapping?.Path}: corrupt {Kind} index file: id {duplicate} is stored twice.");
            _slotsPending = false;
        }
    }

    // Whether ids[r] is slot first + r for every row: the new nodes keep ids and slots equal.
    private static bool AreSlots(ReadOnlySpan<long> ids, int first)
    {
        for (int r = 0; r < ids.Length; r++)
            if (ids[r] != first + r) return false;
        return true;
    }

    // Under the write lock: the map of every live node; false (and the map left empty) when an id is stored twice.
    private bool TryFillSlotMap(out long duplicate)
    {
        HnswGraph.Storage s = _graph.Nodes;
        for (int slot = 0; slot < _graph.Count; slot++)
        {
            if (s.Deleted[slot] != 0 || _slotOf.TryAdd(s.Ids[slot], slot)) continue;
            _slotOf.Clear();
            duplicate = s.Ids[slot];
            return false;
        }
        duplicate = 0;
        return true;
    }

    /// <inheritdoc />
    public override void SetSearchParameter(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name != "ef")
            throw new ArgumentException($"The {Kind} index has no search parameter \"{name}\"; it has \"ef\".", nameof(name));
        if (!(value >= 1 && value <= int.MaxValue) || value != Math.Floor(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "ef must be a positive integer.");
        _efSearch = (int)value;
    }

    /// <inheritdoc />
    protected override void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
    {
        float[]? normalized = null;
        if (Metric == Metric.Cosine)
        {
            // Normalise a copy first, so a zero row leaves the index as it was.
            normalized = vectors.ToArray();
            NormalizeForCosine(normalized, nameof(vectors));
            vectors = normalized;
        }
        lock (_writeLock)
        {
            var seen = new HashSet<long>(rows);
            foreach (long id in ids)
            {
                if (!seen.Add(id)) throw new ArgumentException($"Id {id} appears twice in the batch; ids must be unique.", nameof(ids));
                if (TryGetSlot(id, out _)) throw new ArgumentException($"Id {id} is already in the index; remove it first to replace its vector.", nameof(ids));
            }
            int first = _graph.Count;
            if (_slotsAreIds && !AreSlots(ids, first))
            {
                // The nodes so far are their own ids, so the map cannot meet a duplicate.
                TryFillSlotMap(out _);
                _slotsAreIds = false;
            }
            int threads = BuildThreads == 0 ? Environment.ProcessorCount : BuildThreads;
            _graph.Append(vectors, ids, threads);
            long largest = -1;
            for (int r = 0; r < rows; r++)
            {
                if (!_slotsAreIds) _slotOf[ids[r]] = first + r;
                largest = Math.Max(largest, ids[r]);
            }
            // Under the write lock, so a concurrent save never records these nodes with an older next id.
            RaiseNextId(largest + 1);
            // Amortised: the check walks the whole layer 0, so it runs only when the batch is a sizeable part of the graph.
            if (AutoRepair && (long)rows * 8 >= _graph.Count) _graph.RepairConnectivity();
        }
    }

    private static IIndex? ParseToken(IndexFactoryCursor cursor)
    {
        if (!IndexFactoryCursor.TryMatch(cursor.Token, "HNSW", out string rest)) return null;
        if (!IndexFactoryCursor.TryParseCount(rest, out int m) || m is < 2 or > HnswGraph.MaxM)
            throw cursor.Error($"needs its link count M as a whole number from 2 to {HnswGraph.MaxM}, e.g. HNSW32");
        Metric metric = cursor.FloatMetric;
        int dimension = cursor.Dimension;
        string? storage = cursor.PeekNext();
        if (storage == FlatIndex.KindName)
        {
            cursor.TakeNext("a storage");
            return new HnswIndex(dimension, metric, m);
        }
        if (storage is not null && IvfEncoding.TryParseScalar(storage, out ScalarQuantizerType type))
        {
            cursor.TakeNext("a storage");
            return new HnswIndex(dimension, type, metric, m);
        }
        if (storage is not null && IndexFactoryCursor.TryMatch(storage, "PQ", out _))
        {
            cursor.TakeNext("a storage");
            IvfEncoding pq = IvfEncoding.ParseToken(cursor);
            return cursor.Build(() => WithProductQuantizer(dimension, pq.SubQuantizers, pq.BitsPerCode, metric, m));
        }
        return new HnswIndex(dimension, metric, m);
    }

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows, IndexBuildOptions options)
    {
        if (!_codec.NeedsTraining) return;
        if (_graph.Count > 0)
            throw new InvalidOperationException($"The HNSW index already holds {_graph.Count} nodes (removed ones included) encoded with the current codec; training again would invalidate them. Create a new index instead.");
        if (Metric != Metric.Cosine)
        {
            _codec.Train(vectors, options);
            return;
        }
        // Stored cosine vectors are unit length, so the codec must learn from unit vectors too.
        float[] normalized = vectors.ToArray();
        NormalizeForCosine(normalized, nameof(vectors));
        _codec.Train(normalized, options);
    }

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids)
    {
        lock (_writeLock)
        {
            foreach (long id in ids)
                if (!TryGetSlot(id, out _))
                    throw new KeyNotFoundException($"Id {id} is not in the index; nothing was removed.");
            var slots = new HashSet<int>();
            foreach (long id in ids)
            {
                // An id listed twice is removed once.
                if (_slotsAreIds) slots.Add((int)id);
                else if (_slotOf.TryRemove(id, out int slot)) slots.Add(slot);
            }
            _graph.Remove(slots);
            // Relinking can leave a node whose every neighbour was removed with no way in.
            if (AutoRepair && (long)slots.Count * 8 >= _graph.Live) _graph.RepairConnectivity();
            return slots.Count;
        }
    }

    /// <inheritdoc />
    protected override unsafe void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        int ef = ResolveEf(options);
        queries = PrepareQueries(queries, out float[]? normalized);
        try
        {
            Func<long, bool>? filter = options.Predicate;
            fixed (float* q = queries)
            fixed (long* outIds = ids)
            fixed (float* outDistances = distances)
            {
                int threads = options.ResolveThreads(rows);
                if (filter is not null)
                {
                    SearchFiltered(q, rows, k, ef, options, filter, outIds, outDistances, threads);
                    return;
                }
                if (threads == 1)
                {
                    // The ann-benchmarks path (one query per call) allocates nothing.
                    for (int i = 0; i < rows; i++)
                        _graph.Search(q + (long)i * Dimension, k, ef, filter, outIds + (long)i * k, outDistances + (long)i * k);
                }
                else
                {
                    SearchParallel(q, rows, k, ef, filter, outIds, outDistances, threads);
                }
            }
        }
        finally
        {
            ReturnPooled(normalized);
        }
    }

    // A filtered search picks its plan from the filter's selectivity (the selector's count, or a sample of the nodes):
    // when few ids pass, an exact scan of the allowed nodes; otherwise the beam, which gives up for an exact scan once
    // it has compared twice as many nodes as the scan would (allowed nodes far from the query make it wade through
    // everything closer). The filtered path allocates a little per call (the shared list of allowed slots).
    private unsafe void SearchFiltered(float* queries, int rows, int k, int ef, SearchOptions options, Func<long, bool> filter, long* ids, float* distances, int threads)
    {
        int live = _graph.Live;
        double selectivity = live == 0 ? 0 : options.Selector?.Count is { } count
            ? Math.Min(1.0, (double)count / live)
            : _graph.EstimateSelectivity(filter, SelectivitySamples);
        int width = Math.Max(ef, k);
        double allowed = selectivity * live;
        int threshold = ResolveExactScanThreshold(options, width, live);
        bool exactOnly = allowed <= threshold;
        int budget = threshold == 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, 2 * Math.Max(allowed, threshold));
        using var scan = new AllowedSlots(this, options.Selector, filter);
        if (threads == 1 || rows == 1)
        {
            for (int i = 0; i < rows; i++)
                SearchFilteredOne(queries + (long)i * Dimension, k, width, filter, exactOnly, budget, scan, ids + (long)i * k, distances + (long)i * k);
            return;
        }
        int dimension = Dimension;
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            SearchFilteredOne(queries + (long)i * dimension, k, width, filter, exactOnly, budget, scan, ids + (long)i * k, distances + (long)i * k));
    }

    private unsafe void SearchFilteredOne(float* query, int k, int width, Func<long, bool> filter, bool exactOnly, int budget, AllowedSlots scan, long* ids, float* distances)
    {
        if (!exactOnly && _graph.TrySearch(query, k, width, filter, budget, ids, distances)) return;
        _graph.SearchSlots(query, scan.Get(), k, ids, distances);
    }

    // The live slots a filter allows, found on first use (listed by the selector, or by testing every node) and shared by
    // the call's queries.
    private sealed class AllowedSlots(HnswIndex index, IdSelector? selector, Func<long, bool> filter) : IDisposable
    {
        private readonly Lock _gate = new();
        private int[]? _slots;
        private int _count;

        public ReadOnlySpan<int> Get()
        {
            lock (_gate)
            {
                if (_slots is null) Find();
                return _slots.AsSpan(0, _count);
            }
        }

        [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_slots))]
        private void Find()
        {
            HnswGraph graph = index._graph;
            _slots = ArrayPool<int>.Shared.Rent(Math.Max(1, graph.Count));
            if (selector is not null && selector.TryGetSortedIds(out ReadOnlySpan<long> allowedIds) && allowedIds.Length <= _slots.Length)
            {
                // Ids the index assigned itself are their slots, which spares a dictionary lookup per id.
                foreach (long id in allowedIds)
                {
                    if (graph.IsLiveSlotOfLabel(id)) _slots[_count++] = (int)id;
                    else if (!index._slotsAreIds && index.TryGetSlot(id, out int slot) && graph.IsLive(slot)) _slots[_count++] = slot;
                }
                return;
            }
            _count = graph.AllowedSlots(filter, _slots);
        }

        public void Dispose()
        {
            if (_slots is not null) ArrayPool<int>.Shared.Return(_slots);
        }
    }

    // Kept apart from SearchCore so the lambda's closure is allocated only when queries run in parallel.
    private unsafe void SearchParallel(float* queries, int rows, int k, int ef, Func<long, bool>? filter, long* ids, float* distances, int threads)
    {
        int dimension = Dimension;
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            _graph.Search(queries + (long)i * dimension, k, ef, filter, ids + (long)i * k, distances + (long)i * k));
    }

    /// <inheritdoc />
    protected override unsafe RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        int ef = Math.Max(ResolveEf(options), 32);
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        Func<long, bool>? filter = options.Predicate;
        bool similarity = Metric.IsSimilarity();
        var perQuery = new (long[] Ids, float[] Distances)[rows];
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(rows) }, i =>
        {
            fixed (float* q = &prepared[(long)i * Dimension])
            {
                // Grow the beam until its worst result lies outside the radius (or the beam covers every
                // node), so a neighbourhood larger than the default ef is still found.
                for (int width = ef; ; width *= 2)
                {
                    int total = _graph.Count;
                    int k = Math.Min(width, Math.Max(total, 1));
                    var ids = new long[k];
                    var values = new float[k];
                    fixed (long* idp = ids)
                    fixed (float* valuep = values)
                        _graph.Search(q, k, width, filter, idp, valuep);
                    int inside = 0;
                    while (inside < k && ids[inside] != SearchResult.MissingId
                           && (similarity ? values[inside] > radius : values[inside] < radius)) inside++;
                    if (inside < k || width >= total)
                    {
                        perQuery[i] = (ids[..inside], values[..inside]);
                        break;
                    }
                }
            }
        });
        var offsets = new long[rows + 1];
        for (int i = 0; i < rows; i++) offsets[i + 1] = offsets[i] + perQuery[i].Ids.Length;
        var allIds = new long[offsets[rows]];
        var allDistances = new float[offsets[rows]];
        for (int i = 0; i < rows; i++)
        {
            perQuery[i].Ids.CopyTo(allIds, offsets[i]);
            perQuery[i].Distances.CopyTo(allDistances, offsets[i]);
        }
        return new RangeSearchResult(offsets, allIds, allDistances);
    }

    // A filtered beam of width w that keeps a fraction s of the nodes expands about w / s nodes before it holds w allowed
    // ones, each adding a share of its 2M links; an exact scan compares s · live rows, streaming. Equal costs put the
    // switch near allowed² = C · w · live; C = 16 follows from about 16 fresh links per expanded node, and on
    // Fashion-MNIST puts 1% filters on the scan and 10% ones on the beam (docs/benchmarks.md "Filtered search").
    internal static int DefaultExactScanThreshold(int width, int live)
    {
        const double C = 16;
        return (int)Math.Min(int.MaxValue, Math.Sqrt(C * width * live));
    }

    private static int ResolveExactScanThreshold(SearchOptions options, int width, int live)
    {
        if (options is HnswSearchOptions { ExactScanThreshold: { } threshold })
        {
            if (threshold < 0) throw new ArgumentOutOfRangeException(nameof(options), threshold, "HnswSearchOptions.ExactScanThreshold must be 0 or positive.");
            return threshold;
        }
        return DefaultExactScanThreshold(width, live);
    }

    private int ResolveEf(SearchOptions options)
    {
        if (options is HnswSearchOptions { Ef: { } ef })
        {
            if (ef <= 0) throw new ArgumentOutOfRangeException(nameof(options), ef, "HnswSearchOptions.Ef must be positive.");
            return ef;
        }
        return _efSearch;
    }


    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        lock (_writeLock)
        {
            HnswGraph.Storage s = _graph.Nodes;
            int count = _graph.Count;
            int rowBytes = _graph.RowBytes;
            writer.WriteInt32(Dimension);
            writer.WriteInt32((int)Metric);
            writer.WriteInt32(_graph.M);
            writer.WriteInt32(_graph.EfConstruction);
            writer.WriteInt32(_efSearch);
            writer.WriteInt32(_graph.Seed);
            writer.WriteInt64(NextId);
            writer.WriteInt32(count);
            writer.WriteInt64(_graph.Entry);
            _codec.WriteTo(writer);
            writer.WriteSpan<long>(s.Ids.AsSpan(0, count));
            writer.WriteSpan<byte>(s.Levels.AsSpan(0, count));
            writer.WriteSpan<byte>(s.Deleted.AsSpan(0, count));
            writer.WriteAligned<byte>(s.RowSpan(0, count * rowBytes));
            writer.WriteAligned<int>(s.LinkSpan(0, count * (2 * _graph.M + 1)));
            for (int i = 0; i < count; i++)
                if (s.Upper[i] is { } links) writer.WriteSpan<int>(links);
        }
    }

    internal static HnswIndex ReadPayload(IndexPayloadReader reader) => ReadPayload(reader, Storage.Floats);

    internal static HnswIndex ReadQuantizedPayload(IndexPayloadReader reader) => ReadPayload(reader, Storage.Scalar);

    internal static HnswIndex ReadProductQuantizedPayload(IndexPayloadReader reader) => ReadPayload(reader, Storage.Product);

    // The three kinds share one layout; only the codec's parameters (none for floats) differ.
    private static unsafe HnswIndex ReadPayload(IndexPayloadReader reader, Storage storage)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        int m = reader.ReadInt32("M", 2, HnswGraph.MaxM);
        int efConstruction = reader.ReadInt32("efConstruction", 1, int.MaxValue);
        int efSearch = reader.ReadInt32("efSearch", 1, int.MaxValue);
        int seed = reader.ReadInt32();
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        int m0 = 2 * m;
        int count = reader.ReadInt32("node count", 0, (int.MaxValue - 64) / Math.Max(dimension * sizeof(float), (m0 + 1) * sizeof(int)));
        long entry = reader.ReadInt64();
        bool similarity = metric != Metric.L2;
        VectorCodec codec = storage switch
        {
            Storage.Floats => new FloatCodec(dimension, similarity),
            Storage.Scalar => ScalarCodec.Read(reader, dimension, similarity),
            _ => ProductCodec.Read(reader, dimension, similarity),
        };
        int rowBytes = codec.CodeSize;
        long[] ids = reader.ReadArray<long>(count, "ids");
        byte[] levels = reader.ReadArray<byte>(count, "levels");
        byte[] deleted = reader.ReadArray<byte>(count, "deleted flags");
        // A mapped file's rows and layer-0 links stay in the file (a million-node graph opens without reading them); their
        // values are not scanned (VerifyChecksum detects corruption), and the search loop bounds-checks each layer-0 neighbour.
        bool mapped = reader.Mapping is not null;
        string rowsName = storage == Storage.Floats ? "vectors" : "codes";
        byte* mappedRows = mapped ? reader.MapAligned<byte>((long)count * rowBytes, rowsName) : null;
        int* mappedLinks0 = mapped ? reader.MapAligned<int>((long)count * (m0 + 1), "layer-0 links") : null;
        byte[] rows = mapped ? [] : reader.ReadAlignedArray<byte>((long)count * rowBytes, rowsName);
        int[] links0 = mapped ? [] : reader.ReadAlignedArray<int>((long)count * (m0 + 1), "layer-0 links");

        var index = new HnswIndex(dimension, metric, storage, codec, m, efConstruction, seed) { _efSearch = efSearch };
        var upper = new int[]?[count];
        int live = 0;
        int topLevel = -1;
        bool slotsAreIds = true;
        for (int i = 0; i < count; i++)
            if (deleted[i] == 0 && ids[i] != i) { slotsAreIds = false; break; }
        index._slotsAreIds = slotsAreIds;
        for (int i = 0; i < count; i++)
        {
            if (levels[i] > HnswGraph.MaxLevel) throw reader.Corrupt($"node {i} has level {levels[i]}, above the maximum {HnswGraph.MaxLevel}");
            if (deleted[i] > 1) throw reader.Corrupt($"node {i} has deleted flag {deleted[i]}");
            if (ids[i] < 0 || ids[i] >= nextId) throw reader.Corrupt($"id {ids[i]} is negative or not below the next id {nextId}");
            if (deleted[i] == 0)
            {
                if (!mapped && !slotsAreIds && !index._slotOf.TryAdd(ids[i], i)) throw reader.Corrupt($"id {ids[i]} is stored twice");
                live++;
            }
            if (levels[i] > 0)
            {
                int[] links = reader.ReadArray<int>((long)levels[i] * (m + 1), $"upper links of node {i}");
                for (int level = 1; level <= levels[i]; level++)
                    HnswGraph.CheckLinks(reader, links.AsSpan((level - 1) * (m + 1), m + 1), m, i, level, count, levels);
                upper[i] = links;
            }
            if (!mapped) HnswGraph.CheckLinks(reader, links0.AsSpan(i * (m0 + 1), m0 + 1), m0, i, 0, count, levels);
            if (deleted[i] == 0) topLevel = Math.Max(topLevel, levels[i]);
        }
        // Removing nodes moves the entry point to the highest live node (none left: -1), so the top level is the live nodes'.
        if (live == 0 ? entry != -1 : (int)entry < 0 || (int)entry >= count || deleted[(int)entry] != 0 || entry >> 32 != levels[(int)entry] || levels[(int)entry] != topLevel)
            throw reader.Corrupt($"entry point {entry} is not a live node on the top level (node count {count}, live {live}, top level {topLevel})");
        if (mapped)
        {
            index._graph.LoadMapped(count, live, entry, mappedRows, mappedLinks0, upper, ids, levels, deleted);
            index._slotsPending = count > 0 && !slotsAreIds;
            index.NextId = nextId;
            return index;
        }
        if (storage == Storage.Floats)
        {
            foreach (float value in MemoryMarshal.Cast<byte, float>(rows))
                if (!float.IsFinite(value)) throw reader.Corrupt("a stored vector has a NaN or infinite component");
        }
        else if (codec.CheckCodes(rows) is { } problem)
        {
            throw reader.Corrupt(problem);
        }

        index._graph.Load(count, live, entry, rows, links0, upper, ids, levels, deleted);
        index.NextId = nextId;
        return index;
    }
}
