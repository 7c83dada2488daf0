using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Approximate search on a hierarchical navigable small-world graph (Malkov &amp; Yashunin, as hnswlib):
/// greedy descent through the sparse upper layers, then a beam search of width <c>ef</c> on layer 0.
/// Neighbours are chosen with the paper's heuristic (Algorithm 4, hnswlib's <c>getNeighborsByHeuristic2</c>).
/// </summary>
/// <remarks>
/// <para>Storage: raw floats, or scalar-quantized codes (SQ8, SQ4, fp16; Faiss's <c>IndexHNSWSQ</c>, factory
/// <c>HNSW32,SQ8</c>) that cut memory per vector by 4× (SQ8) at a small cost in recall. Codes are compared with the
/// float query directly (asymmetric distance); a quantized index must be trained before vectors are added.</para>
/// <para>Layout: all vectors (or codes) in one row-major array (row = internal slot), layer-0 links in one array of
/// <c>2M + 1</c> ints per slot (count, then neighbours), upper-layer links only for the few nodes that reach
/// those layers. Searches reuse per-thread visited stamps and heaps and allocate nothing per query once warm.</para>
/// <para>Concurrency: searches may run concurrently with each other and with <see cref="VectorIndex.Add(ReadOnlySpan{float}, ReadOnlySpan{long})"/>
/// and <see cref="VectorIndex.Remove"/> (a search may or may not see vectors added or removed while it runs,
/// and never returns an id that was not added); adds,
/// removes and saves are serialised with each other (automatic ids are drawn outside that lock, so adds from
/// several threads at once should pass their own ids). A large add inserts its rows in parallel on
/// <see cref="BuildThreads"/> threads, locking each neighbour list while it is read or rewritten (4,096 lock
/// stripes; hnswlib has one lock per node), so the graph then depends on
/// thread timing; with one build thread it is deterministic for a given <see cref="Seed"/>.</para>
/// <para>Removal is a tombstone plus repair: the node is never returned again, and every live node that linked
/// to it is relinked by the paper's heuristic among its surviving links and the removed node's (FreshDiskANN's delete
/// consolidation), so searches stop passing through removed nodes. That pass reads every neighbour list, so remove
/// in batches; the removed nodes' memory is not reclaimed. Filtered nodes still route searches but are not
/// returned; a very selective filter makes the search visit much of the graph. <see cref="VectorIndex.RangeSearch"/> is approximate: it runs
/// the k-NN search with k = ef, doubling ef (from at least 32) until the ef-th result lies outside the radius
/// or ef covers every node; it never returns a vector outside the radius but may miss some inside it.</para>
/// </remarks>
public sealed class HnswIndex : VectorIndex
{
    internal const string KindName = "HNSW";
    internal const string QuantizedKindName = "HNSW_SQ";

    /// <summary>The default number of links per node on the upper layers.</summary>
    public const int DefaultM = 16;

    /// <summary>The default beam width while building.</summary>
    public const int DefaultEfConstruction = 200;

    /// <summary>The default beam width while searching.</summary>
    public const int DefaultEfSearch = 16;

    // Levels are drawn from a geometric distribution; capping them keeps a corrupt or adversarial seed from
    // allocating absurd link lists, and a level above 30 has probability below M^-30.
    private const int MaxLevel = 30;
    private const int LockStripes = 1 << 12;
    private const int MaxM = 1024;

    private readonly int _m;
    private readonly int _m0;
    private readonly int _efConstruction;
    private readonly double _levelScale;
    private readonly bool _innerProduct;
    private readonly ScalarQuantizer? _quantizer;
    private readonly int _rowBytes;
    private readonly Lock[] _locks;
    private readonly Lock _entryLock = new();
    private readonly Lock _writeLock = new();
    private readonly Dictionary<long, int> _slotOf = [];
    private Storage _storage;
    private int _count;     // slots used, deleted ones included
    private int _live;
    private long _entry;    // entry slot in the low 32 bits, top level in the high 32; -1 when empty
    private int _efSearch = DefaultEfSearch;
    private int _buildThreads;

    /// <summary>Creates an empty HNSW index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="m">Links per node on the upper layers (2M on layer 0); 2 to 1024.</param>
    /// <param name="efConstruction">Beam width while building; positive.</param>
    /// <param name="seed">Seeds the level of each node.</param>
    public HnswIndex(int dimension, Metric metric = Metric.L2, int m = DefaultM, int efConstruction = DefaultEfConstruction, int seed = 100)
        : this(dimension, null, metric, m, efConstruction, seed)
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
        : this(dimension, new ScalarQuantizer(dimension, storage), metric, m, efConstruction, seed)
    {
    }

    private HnswIndex(int dimension, ScalarQuantizer? quantizer, Metric metric, int m, int efConstruction, int seed)
        : base(dimension, metric)
    {
        if (m is < 2 or > MaxM)
            throw new ArgumentOutOfRangeException(nameof(m), m, $"M must be between 2 and {MaxM}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(efConstruction);
        _m = m;
        _m0 = 2 * m;
        _efConstruction = efConstruction;
        Seed = seed;
        _levelScale = 1.0 / Math.Log(m);
        _innerProduct = metric != Metric.L2;
        _quantizer = quantizer;
        _rowBytes = quantizer?.CodeSize ?? dimension * sizeof(float);
        _locks = new Lock[LockStripes];
        for (int i = 0; i < _locks.Length; i++) _locks[i] = new Lock();
        _storage = new Storage(0, _rowBytes, _m0);
        _entry = -1;
    }

    /// <inheritdoc />
    public override long Count => Volatile.Read(ref _live);

    /// <inheritdoc />
    public override string Kind => _quantizer is null ? KindName : QuantizedKindName;

    /// <inheritdoc />
    public override bool IsTrained => _quantizer?.IsTrained ?? true;

    /// <summary>The encoding of stored vectors, or null when they are stored as floats.</summary>
    public ScalarQuantizerType? Quantization => _quantizer?.Type;

    /// <summary>Links per node on the upper layers; layer 0 allows twice as many.</summary>
    public int M => _m;

    /// <summary>Beam width used while building.</summary>
    public int EfConstruction => _efConstruction;

    /// <summary>The seed of the level generator.</summary>
    public int Seed { get; }

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
    /// Finds nodes that a layer-0 walk from the entry point cannot reach and links each one from a near node that is reachable
    /// (appending to a list with room, else replacing that node's farthest link whose target keeps another incoming link).
    /// Runs under the write lock; concurrent searches stay valid.
    /// </summary>
    /// <returns>How many nodes were relinked.</returns>
    public int RepairConnectivity()
    {
        lock (_writeLock) return RepairConnectivityLocked();
    }

    /// <summary>How many live nodes a layer-0 walk from the entry point cannot reach (0 for a healthy graph).</summary>
    public int CountUnreachable()
    {
        lock (_writeLock)
        {
            Storage s = _storage;
            bool[] reached = new bool[_count];
            if (_entry >= 0) Reach(s, (int)_entry, reached);
            int missing = 0;
            for (int i = 0; i < _count; i++)
                if (!reached[i] && s.Deleted[i] == 0) missing++;
            return missing;
        }
    }

    // For tests: live nodes that still link to a removed one (0 after every Remove).
    internal int CountLinksToRemoved()
    {
        lock (_writeLock)
        {
            Storage s = _storage;
            int found = 0;
            for (int node = 0; node < _count; node++)
            {
                if (s.Deleted[node] != 0) continue;
                for (int level = 0; level <= s.Levels[node]; level++)
                {
                    ReadOnlySpan<int> list = ListOf(s, node, level);
                    for (int j = 1; j <= list[0]; j++) if (s.Deleted[list[j]] != 0) found++;
                }
            }
            return found;
        }
    }

    /// <summary>Graph slots in use, removed (tombstoned) nodes included.</summary>
    public int SlotCount => Volatile.Read(ref _count);

    /// <inheritdoc />
    public override long MemoryUsageBytes
    {
        get
        {
            lock (_writeLock)
            {
                Storage s = _storage;
                long upper = 0;
                for (int i = 0; i < _count; i++)
                    if (s.Upper[i] is { } links) upper += (long)links.Length * sizeof(int);
                return s.Rows.LongLength + (long)s.Links0.Length * sizeof(int) + upper
                    + (long)s.Upper.Length * IntPtr.Size + (long)s.Ids.Length * sizeof(long)
                    + s.Levels.Length + s.Deleted.Length
                    + _slotOf.Count * 24L; // dictionary entry: key, value, hash code, next link
            }
        }
    }

    /// <summary>True when <paramref name="id"/> is stored (and not removed).</summary>
    /// <param name="id">The id.</param>
    public bool Contains(long id)
    {
        lock (_writeLock) return _slotOf.ContainsKey(id);
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
    protected override unsafe void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows)
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
                if (_slotOf.ContainsKey(id)) throw new ArgumentException($"Id {id} is already in the index; remove it first to replace its vector.", nameof(ids));
            }
            if ((long)_count + rows > MaxNodes)
                throw new InvalidOperationException($"An HNSW index of dimension {Dimension} and M {_m} holds at most {MaxNodes} vectors.");
            int first = _count;
            EnsureCapacity(first + rows);
            Storage s = _storage;
            Span<byte> newRows = s.Rows.AsSpan(s.RowOffset + first * _rowBytes, rows * _rowBytes);
            if (_quantizer is null) MemoryMarshal.AsBytes(vectors).CopyTo(newRows);
            else _quantizer.Encode(vectors, newRows);
            for (int r = 0; r < rows; r++)
            {
                int slot = first + r;
                s.Ids[slot] = ids[r];
                int level = LevelOf(slot);
                s.Levels[slot] = (byte)level;
                if (level > 0) s.Upper[slot] = new int[level * (_m + 1)];
            }
            int start = 0;
            if (Volatile.Read(ref _entry) < 0)
            {
                // The first node becomes the entry point before anything can link to it.
                Publish(first + 1);
                Volatile.Write(ref _entry, (long)s.Levels[first] << 32 | (uint)first);
                start = 1;
            }
            int threads = BuildThreads == 0 ? Environment.ProcessorCount : BuildThreads;
            threads = Math.Min(threads, (rows - start) / 64 + 1); // small batches are not worth the threads
            // Concurrent searches reach a new slot only through links, which exist only once it is fully
            // written, so the slot count can be published before the insertion.
            Publish(first + rows);
            // New nodes search with their original floats, as Faiss does for quantized storage.
            fixed (float* input = vectors)
            {
                if (threads <= 1)
                {
                    var context = HnswSearchContext.Rent();
                    try
                    {
                        for (int r = start; r < rows; r++) Insert(s, first + r, input + (long)r * Dimension, context, locking: false);
                    }
                    finally
                    {
                        HnswSearchContext.Return(context);
                    }
                }
                else
                {
                    InsertParallel(s, first, start, rows, input, threads);
                }
            }
            for (int r = 0; r < rows; r++) _slotOf[ids[r]] = first + r;
            Volatile.Write(ref _live, _live + rows);
            // Amortised: the check walks the whole layer 0, so it runs only when the batch is a sizeable part of the graph.
            if (AutoRepair && (long)rows * 8 >= _count) RepairConnectivityLocked();
        }
    }

    private unsafe int RepairConnectivityLocked()
    {
        Storage s = _storage;
        int count = _count;
        if (count < 2 || _entry < 0) return 0;
        int stride = _m0 + 1;
        var reached = new bool[count];
        var inDegree = new int[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<int> list = s.Links0.AsSpan(i * stride, stride);
            for (int j = 1; j <= list[0]; j++) inDegree[list[j]]++;
        }
        int repaired = 0;
        var context = HnswSearchContext.Rent();
        try
        {
            // A replaced link can strand a node that an earlier pass saw as reachable, so walk again until clean.
            for (int pass = 0; pass < 4; pass++)
            {
                Array.Clear(reached);
                Reach(s, (int)_entry, reached);
                int before = repaired;
                for (int slot = 0; slot < count; slot++)
                {
                    if (reached[slot] || s.Deleted[slot] != 0) continue;
                    if (!LinkFromReachable(s, slot, reached, inDegree, context)) continue;
                    repaired++;
                    Reach(s, slot, reached);
                }
                if (repaired == before) break;
            }
        }
        finally
        {
            HnswSearchContext.Return(context);
        }
        return repaired;
    }

    // Breadth-first over layer-0 links from `start`, marking every node it reaches.
    private void Reach(Storage s, int start, bool[] reached)
    {
        if (reached[start]) return;
        int stride = _m0 + 1;
        var queue = new Queue<int>();
        reached[start] = true;
        queue.Enqueue(start);
        while (queue.TryDequeue(out int node))
        {
            ReadOnlySpan<int> list = s.Links0.AsSpan(node * stride, stride);
            for (int j = 1; j <= list[0]; j++)
            {
                int next = list[j];
                if (next < reached.Length && !reached[next])
                {
                    reached[next] = true;
                    queue.Enqueue(next);
                }
            }
        }
    }

    // Searches for the orphan from the entry point (every node found is reachable) and links it from the nearest
    // found node that can take a link without orphaning another node.
    private unsafe bool LinkFromReachable(Storage s, int orphan, bool[] reached, int[] inDegree, HnswSearchContext context)
    {
        float* query = NodeVector(s, orphan, context, 0);
        int entry = (int)_entry;
        int current = GreedyDescent(s, query, entry, (int)(_entry >> 32), 1, locking: false, out float currentKey);
        SearchLayerForInsert(s, query, current, currentKey, 0, context, locking: false);
        HnswHeap top = context.Top;
        int n = top.Count;
        float[] keys = context.Keys(n);
        int[] slots = context.Slots(n);
        top.Keys.CopyTo(keys);
        top.Slots.CopyTo(slots);
        keys.AsSpan(0, n).Sort(slots.AsSpan(0, n));
        int stride = _m0 + 1;
        for (int i = 0; i < n; i++)
        {
            int host = slots[i];
            if (host == orphan || !reached[host]) continue;
            Span<int> list = s.Links0.AsSpan(host * stride, stride);
            int links = list[0];
            int position;
            if (links < _m0)
            {
                position = links + 1;
            }
            else
            {
                // Replace the host's farthest link whose target another node also links to.
                float* origin = NodeVector(s, host, context, 1);
                position = -1;
                float farthest = float.NegativeInfinity;
                for (int j = 1; j <= links; j++)
                {
                    if (inDegree[list[j]] < 2) continue;
                    float key = KeyOf(origin, RowOf(s, list[j]));
                    if (key > farthest)
                    {
                        farthest = key;
                        position = j;
                    }
                }
                if (position < 0) continue;
                inDegree[list[position]]--;
            }
            lock (_locks[host & (LockStripes - 1)])
            {
                list[position] = orphan;
                if (position > links) Volatile.Write(ref list[0], links + 1);
            }
            inDegree[orphan]++;
            return true;
        }
        return false;
    }

    // Kept apart from AddCore so the closure is allocated only for parallel inserts.
    private unsafe void InsertParallel(Storage s, int first, int start, int rows, float* input, int threads)
    {
        int dimension = Dimension;
        Parallel.For(start, rows, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => HnswSearchContext.Rent(),
            (r, _, context) => { Insert(s, first + r, input + (long)r * dimension, context, locking: true); return context; },
            HnswSearchContext.Return);
    }

    private int MaxNodes => (int.MaxValue - 64) / Math.Max(_rowBytes, (_m0 + 1) * sizeof(int));

    /// <inheritdoc />
    protected override void TrainCore(ReadOnlySpan<float> vectors, int rows)
    {
        if (_quantizer is null || _quantizer.Type == ScalarQuantizerType.Fp16) return;
        if (_count > 0)
            throw new InvalidOperationException($"The HNSW index already holds {_count} nodes encoded with the current ranges; retraining would invalidate them. Create a new index instead.");
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

    private void Publish(int count) => Volatile.Write(ref _count, count);

    /// <inheritdoc />
    protected override int RemoveCore(ReadOnlySpan<long> ids)
    {
        lock (_writeLock)
        {
            foreach (long id in ids)
                if (!_slotOf.ContainsKey(id))
                    throw new KeyNotFoundException($"Id {id} is not in the index; nothing was removed.");
            Storage s = _storage;
            var slots = new HashSet<int>();
            foreach (long id in ids)
            {
                if (!_slotOf.Remove(id, out int slot)) continue; // listed twice
                Volatile.Write(ref s.Deleted[slot], 1);
                slots.Add(slot);
            }
            Volatile.Write(ref _live, _live - slots.Count);
            Unlink(s, slots);
            // Relinking can leave a node whose every neighbour was removed with no way in.
            if (AutoRepair && (long)slots.Count * 8 >= _live) RepairConnectivityLocked();
            return slots.Count;
        }
    }

    // FreshDiskANN's delete consolidation: every live node that links to a removed one is relinked, by the paper's
    // heuristic, among its surviving links and the removed node's surviving links. Afterwards no live node links to a
    // removed one, so searches stop walking through tombstones and the graph keeps its reach.
    private unsafe void Unlink(Storage s, HashSet<int> removed)
    {
        var context = HnswSearchContext.Rent();
        var seen = new HashSet<int>();
        try
        {
            for (int node = 0; node < _count; node++)
            {
                if (s.Deleted[node] != 0) continue;
                for (int level = 0; level <= s.Levels[node]; level++)
                    RelinkWithout(s, node, level, removed, seen, context);
            }
            if (_entry >= 0 && removed.Contains((int)_entry)) ReplaceEntry(s);
        }
        finally
        {
            HnswSearchContext.Return(context);
        }
    }

    private unsafe void RelinkWithout(Storage s, int node, int level, HashSet<int> removed, HashSet<int> seen, HnswSearchContext context)
    {
        Span<int> list = ListOf(s, node, level);
        int links = list[0];
        bool touched = false;
        for (int j = 1; j <= links && !touched; j++) touched = removed.Contains(list[j]);
        if (!touched) return;

        int capacity = level == 0 ? _m0 : _m;
        float[] keys = context.Keys(links * (capacity + 1));
        int[] slots = context.Slots(links * (capacity + 1));
        float* origin = NodeVector(s, node, context, 0);
        int n = 0;
        seen.Clear();
        seen.Add(node);
        for (int j = 1; j <= links; j++)
        {
            int neighbour = list[j];
            if (!removed.Contains(neighbour))
            {
                if (seen.Add(neighbour)) (keys[n], slots[n++]) = (KeyOf(origin, RowOf(s, neighbour)), neighbour);
                continue;
            }
            Span<int> second = ListOf(s, neighbour, level);
            for (int i = 1; i <= second[0]; i++)
            {
                int candidate = second[i];
                if (s.Deleted[candidate] == 0 && seen.Add(candidate))
                    (keys[n], slots[n++]) = (KeyOf(origin, RowOf(s, candidate)), candidate);
            }
        }
        keys.AsSpan(0, n).Sort(slots.AsSpan(0, n));
        int kept = SelectByHeuristic(s, keys, slots, n, capacity, context);
        lock (_locks[node & (LockStripes - 1)])
        {
            // Lock-free readers may see a mix of old and new neighbours while this copies; all are valid slots.
            slots.AsSpan(0, kept).CopyTo(list[1..]);
            Volatile.Write(ref list[0], kept);
        }
    }

    // The entry point was removed: the live node on the highest layer takes over (none left: the graph is empty).
    private void ReplaceEntry(Storage s)
    {
        int best = -1;
        for (int node = 0; node < _count; node++)
            if (s.Deleted[node] == 0 && (best < 0 || s.Levels[node] > s.Levels[best])) best = node;
        Volatile.Write(ref _entry, best < 0 ? -1 : (long)s.Levels[best] << 32 | (uint)best);
    }

    /// <inheritdoc />
    protected override unsafe void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options)
    {
        int ef = ResolveEf(options);
        queries = PrepareQueries(queries, out float[]? normalized);
        try
        {
            Func<long, bool>? filter = options.Filter;
            fixed (float* q = queries)
            fixed (long* outIds = ids)
            fixed (float* outDistances = distances)
            {
                int threads = options.ResolveThreads(rows);
                if (threads == 1)
                {
                    // The ann-benchmarks path (one query per call) allocates nothing.
                    for (int i = 0; i < rows; i++)
                        SearchOne(q + (long)i * Dimension, k, ef, filter, outIds + (long)i * k, outDistances + (long)i * k);
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

    // Kept apart from SearchCore so the lambda's closure is allocated only when queries run in parallel.
    private unsafe void SearchParallel(float* queries, int rows, int k, int ef, Func<long, bool>? filter, long* ids, float* distances, int threads)
    {
        int dimension = Dimension;
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            SearchOne(queries + (long)i * dimension, k, ef, filter, ids + (long)i * k, distances + (long)i * k));
    }

    /// <inheritdoc />
    protected override unsafe RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        int ef = Math.Max(ResolveEf(options), 32);
        float[] prepared = queries.ToArray();
        NormalizeForCosine(prepared, nameof(queries));
        Func<long, bool>? filter = options.Filter;
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
                    int total = Volatile.Read(ref _count);
                    int k = Math.Min(width, Math.Max(total, 1));
                    var ids = new long[k];
                    var values = new float[k];
                    fixed (long* idp = ids)
                    fixed (float* valuep = values)
                        SearchOne(q, k, width, filter, idp, valuep);
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

    private int ResolveEf(SearchOptions options)
    {
        if (options is HnswSearchOptions { Ef: { } ef })
        {
            if (ef <= 0) throw new ArgumentOutOfRangeException(nameof(options), ef, "HnswSearchOptions.Ef must be positive.");
            return ef;
        }
        return _efSearch;
    }

    private unsafe void SearchOne(float* query, int k, int ef, Func<long, bool>? filter, long* outIds, float* outDistances)
    {
        var context = HnswSearchContext.Rent();
        // The entry point first: the storage read after it is at least the one that node was inserted into.
        long entry = Volatile.Read(ref _entry);
        Storage s = Volatile.Read(ref _storage);
        try
        {
            var heap = new TopKHeap(new Span<float>(outDistances, k), new Span<long>(outIds, k));
            if (entry >= 0)
            {
                int current = GreedyDescent(s, query, (int)entry, (int)(entry >> 32), 1, locking: false, out float currentKey);
                bool restricted = filter is not null || Volatile.Read(ref _live) != Volatile.Read(ref _count);
                int width = Math.Max(ef, k);
                if (_quantizer is not null)
                {
                    if (_innerProduct) SearchLayer0<QuantizedInnerProductKey>(s, query, current, currentKey, width, context, restricted, filter);
                    else SearchLayer0<QuantizedL2Key>(s, query, current, currentKey, width, context, restricted, filter);
                }
                else if (_innerProduct)
                {
                    SearchLayer0<InnerProductKey>(s, query, current, currentKey, width, context, restricted, filter);
                }
                else
                {
                    SearchLayer0<L2Key>(s, query, current, currentKey, width, context, restricted, filter);
                }
                HnswHeap top = context.Top;
                ReadOnlySpan<float> keys = top.Keys;
                ReadOnlySpan<int> slots = top.Slots;
                for (int i = 0; i < keys.Length; i++) heap.Push(keys[i], s.Ids[slots[i]]);
            }
            int found = heap.SortAndPad();
            if (_innerProduct)
                for (int j = 0; j < found; j++) outDistances[j] = -outDistances[j];
        }
        finally
        {
            GC.KeepAlive(s);
            HnswSearchContext.Return(context);
        }
    }

    // Smaller is closer: the squared L2 distance, or the negated inner product.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe float KeyOf(float* query, byte* row)
    {
        if (_quantizer is null)
            return _innerProduct
                ? -Distance.InnerProductUnchecked(ref *query, ref *(float*)row, Dimension)
                : Distance.SquaredL2Unchecked(ref *query, ref *(float*)row, Dimension);
        var code = new ReadOnlySpan<byte>(row, _rowBytes);
        var q = new ReadOnlySpan<float>(query, Dimension);
        return _innerProduct ? -_quantizer.InnerProductUnchecked(q, code) : _quantizer.SquaredL2Unchecked(q, code);
    }

    // The keys of stored rows, four rows at a time where the rows are floats (see SearchLayer0).
    private unsafe void KeysOf(Storage s, float* query, ReadOnlySpan<int> slots, Span<float> keys)
    {
        int p = 0, count = slots.Length;
        if (_quantizer is null)
        {
            for (; p + 4 <= count; p += 4)
            {
                ref float q = ref *query;
                ref float y0 = ref *(float*)RowOf(s, slots[p]);
                ref float y1 = ref *(float*)RowOf(s, slots[p + 1]);
                ref float y2 = ref *(float*)RowOf(s, slots[p + 2]);
                ref float y3 = ref *(float*)RowOf(s, slots[p + 3]);
                Vector128<float> four = _innerProduct
                    ? -Distance.InnerProductUnchecked4(ref q, ref y0, ref y1, ref y2, ref y3, Dimension)
                    : Distance.SquaredL2Unchecked4(ref q, ref y0, ref y1, ref y2, ref y3, Dimension);
                four.StoreUnsafe(ref keys[p]);
            }
        }
        for (; p < count; p++) keys[p] = KeyOf(query, RowOf(s, slots[p]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe byte* RowOf(Storage s, int slot) => s.RowBase + (long)slot * _rowBytes;

    // A stored node as a query: its floats, or its code decoded into one of the context's two scratch rows.
    private unsafe float* NodeVector(Storage s, int slot, HnswSearchContext context, int scratch)
    {
        if (_quantizer is null) return (float*)RowOf(s, slot);
        float* decoded = context.Decoded(scratch, Dimension);
        _quantizer.DecodeRow(new ReadOnlySpan<byte>(RowOf(s, slot), _rowBytes), new Span<float>(decoded, Dimension));
        return decoded;
    }

    // Walks down from the top layer to layer `bottom`, at each layer moving to the closest neighbour until
    // none is closer. Deleted nodes route like any other.
    private unsafe int GreedyDescent(Storage s, float* query, int current, int fromLevel, int bottom, bool locking, out float currentKey)
    {
        currentKey = KeyOf(query, RowOf(s, current));
        for (int level = fromLevel; level >= bottom; level--)
        {
            bool changed = true;
            while (changed)
            {
                changed = false;
                int[] links = s.Upper[current]!;
                int offset = (level - 1) * (_m + 1);
                Lock? gate = locking ? _locks[current & (LockStripes - 1)] : null;
                gate?.Enter();
                try
                {
                    int count = Volatile.Read(ref links[offset]);
                    for (int j = 1; j <= count; j++)
                    {
                        int candidate = links[offset + j];
                        float key = KeyOf(query, RowOf(s, candidate));
                        if (key < currentKey)
                        {
                            currentKey = key;
                            current = candidate;
                            changed = true;
                        }
                    }
                }
                finally
                {
                    gate?.Exit();
                }
            }
        }
        return current;
    }

    // Beam search on layer 0 for queries, the hot loop: leaves the best `ef` allowed nodes in context.Top.
    // Deleted and filtered nodes are expanded but not kept; while fewer than ef are kept the search goes on,
    // as hnswlib's searchBaseLayerST does with deletions or a filter. Generic over the metric so the distance
    // kernel inlines without a branch per neighbour.
    private unsafe void SearchLayer0<TKey>(Storage s, float* query, int entry, float entryKey, int ef, HnswSearchContext context, bool restricted, Func<long, bool>? filter)
        where TKey : struct, IKey
    {
        int capacity = s.Capacity;
        ushort* visited = context.BeginQuery(capacity, out ushort stamp);
        HnswHeap candidates = context.Candidates, top = context.Top;
        candidates.Clear();
        top.Clear();
        int m0 = _m0;
        int stride = m0 + 1;
        long rowBytes = _rowBytes;
        int dimension = Dimension;
        ScalarQuantizer? quantizer = _quantizer;
        int* links0 = s.LinkBase;
        byte* rows = s.RowBase;
        byte[] deleted = s.Deleted;
        long[] ids = s.Ids;
        (int[] pendingSlots, float[] pendingKeys) = context.Pending(m0);

        float lowerBound = float.PositiveInfinity;
        if (Allowed(entry))
        {
            top.Push(entryKey, entry);
            lowerBound = entryKey;
        }
        candidates.Push(-entryKey, entry);
        visited[entry] = stamp;
        while (candidates.Count > 0)
        {
            float candidateKey = -candidates.TopKey;
            if (candidateKey > lowerBound && (top.Count == ef || !restricted)) break;
            int current = candidates.TopSlot;
            candidates.Pop();
            int* list = links0 + (long)current * stride;
            int count = Volatile.Read(ref *list);
            if (count > m0) count = m0; // a concurrent writer may be mid-rewrite; never read past the list
            // Mark the unvisited neighbours first, then compute their keys four rows at a time: four rows in flight
            // hide more of the latency of rows that live in L3 or memory than hnswlib's one row at a time.
            int fresh = 0;
            for (int j = 1; j <= count; j++)
            {
                int neighbour = list[j];
                if ((uint)neighbour >= (uint)capacity || visited[neighbour] == stamp) continue;
                visited[neighbour] = stamp;
                Sse.Prefetch0(rows + neighbour * rowBytes);
                pendingSlots[fresh++] = neighbour;
            }
            int p = 0;
            for (; p + 4 <= fresh; p += 4)
                TKey.Of4(query, rows + pendingSlots[p] * rowBytes, rows + pendingSlots[p + 1] * rowBytes,
                    rows + pendingSlots[p + 2] * rowBytes, rows + pendingSlots[p + 3] * rowBytes, dimension, quantizer)
                    .StoreUnsafe(ref pendingKeys[p]);
            for (; p < fresh; p++)
                pendingKeys[p] = TKey.Of(query, rows + pendingSlots[p] * rowBytes, dimension, quantizer);
            for (p = 0; p < fresh; p++)
            {
                float distance = pendingKeys[p];
                if (top.Count < ef || distance < lowerBound)
                {
                    int neighbour = pendingSlots[p];
                    candidates.Push(-distance, neighbour);
                    // The next node to expand is usually decided by now: start loading its link list.
                    Sse.Prefetch0(links0 + (long)candidates.TopSlot * stride);
                    if (Allowed(neighbour))
                    {
                        top.Push(distance, neighbour);
                        if (top.Count > ef) top.Pop();
                    }
                    if (top.Count > 0) lowerBound = top.TopKey;
                }
            }
        }

        bool Allowed(int slot) => deleted[slot] == 0 && (filter is null || filter(ids[slot]));
    }

    // The hot loop's distance, a struct per storage and metric so the JIT specialises SearchLayer0 for each.
    // Static so the float keys compile to the bare kernel call; the quantizer is null for them.
    private unsafe interface IKey
    {
        static abstract float Of(float* query, byte* row, int dimension, ScalarQuantizer? quantizer);

        static abstract Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int dimension, ScalarQuantizer? quantizer);
    }

    private readonly unsafe struct L2Key : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int dimension, ScalarQuantizer? quantizer) =>
            Distance.SquaredL2Unchecked(ref *query, ref *(float*)row, dimension);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int dimension, ScalarQuantizer? quantizer) =>
            Distance.SquaredL2Unchecked4(ref *query, ref *(float*)row0, ref *(float*)row1, ref *(float*)row2, ref *(float*)row3, dimension);
    }

    private readonly unsafe struct InnerProductKey : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int dimension, ScalarQuantizer? quantizer) =>
            -Distance.InnerProductUnchecked(ref *query, ref *(float*)row, dimension);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int dimension, ScalarQuantizer? quantizer) =>
            -Distance.InnerProductUnchecked4(ref *query, ref *(float*)row0, ref *(float*)row1, ref *(float*)row2, ref *(float*)row3, dimension);
    }

    private readonly unsafe struct QuantizedL2Key : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int dimension, ScalarQuantizer? quantizer) =>
            quantizer!.SquaredL2Unchecked(new ReadOnlySpan<float>(query, dimension), new ReadOnlySpan<byte>(row, quantizer.CodeSize));

        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int dimension, ScalarQuantizer? quantizer) =>
            Vector128.Create(Of(query, row0, dimension, quantizer), Of(query, row1, dimension, quantizer), Of(query, row2, dimension, quantizer), Of(query, row3, dimension, quantizer));
    }

    private readonly unsafe struct QuantizedInnerProductKey : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int dimension, ScalarQuantizer? quantizer) =>
            -quantizer!.InnerProductUnchecked(new ReadOnlySpan<float>(query, dimension), new ReadOnlySpan<byte>(row, quantizer.CodeSize));

        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int dimension, ScalarQuantizer? quantizer) =>
            Vector128.Create(Of(query, row0, dimension, quantizer), Of(query, row1, dimension, quantizer), Of(query, row2, dimension, quantizer), Of(query, row3, dimension, quantizer));
    }

    // Beam search on one layer while building (hnswlib's searchBaseLayer): neighbour lists are read under
    // their node's lock when other threads insert concurrently; deleted nodes route but are not kept.
    private unsafe void SearchLayerForInsert(Storage s, float* query, int entry, float entryKey, int level, HnswSearchContext context, bool locking)
    {
        ushort* visited = context.BeginQuery(s.Capacity, out ushort stamp);
        HnswHeap candidates = context.Candidates, top = context.Top;
        candidates.Clear();
        top.Clear();
        int ef = Math.Max(_efConstruction, _m);
        int[] buffer = context.NeighbourBuffer(_m0 + 1);
        (int[] pendingSlots, float[] pendingKeys) = context.Pending(_m0);
        byte[] deleted = s.Deleted;

        float lowerBound = float.PositiveInfinity;
        if (deleted[entry] == 0)
        {
            top.Push(entryKey, entry);
            lowerBound = entryKey;
        }
        candidates.Push(-entryKey, entry);
        visited[entry] = stamp;
        while (candidates.Count > 0)
        {
            float candidateKey = -candidates.TopKey;
            if (candidateKey > lowerBound && top.Count == ef) break;
            int current = candidates.TopSlot;
            candidates.Pop();
            int count = CopyLinks(s, current, level, buffer, locking);
            int fresh = 0;
            for (int j = 0; j < count; j++)
            {
                int neighbour = buffer[j];
                if (visited[neighbour] == stamp) continue;
                visited[neighbour] = stamp;
                Sse.Prefetch0(RowOf(s, neighbour));
                pendingSlots[fresh++] = neighbour;
            }
            KeysOf(s, query, pendingSlots.AsSpan(0, fresh), pendingKeys);
            for (int p = 0; p < fresh; p++)
            {
                int neighbour = pendingSlots[p];
                float key = pendingKeys[p];
                if (top.Count < ef || key < lowerBound)
                {
                    candidates.Push(-key, neighbour);
                    if (deleted[neighbour] == 0)
                    {
                        top.Push(key, neighbour);
                        if (top.Count > ef) top.Pop();
                    }
                    if (top.Count > 0) lowerBound = top.TopKey;
                }
            }
        }
    }

    private int CopyLinks(Storage s, int slot, int level, int[] destination, bool locking)
    {
        Lock? gate = locking ? _locks[slot & (LockStripes - 1)] : null;
        gate?.Enter();
        try
        {
            ReadOnlySpan<int> list = ListOf(s, slot, level);
            int count = list[0];
            list.Slice(1, count).CopyTo(destination);
            return count;
        }
        finally
        {
            gate?.Exit();
        }
    }

    private Span<int> ListOf(Storage s, int slot, int level) => level == 0
        ? s.Links0.AsSpan(slot * (_m0 + 1), _m0 + 1)
        : s.Upper[slot].AsSpan((level - 1) * (_m + 1), _m + 1);

    // hnswlib's addPoint: descend greedily to the node's level, then on each of its layers find efConstruction
    // candidates, keep M by the heuristic, and link both ways (shrinking overfull neighbour lists by the
    // heuristic too).
    private unsafe void Insert(Storage s, int slot, float* query, HnswSearchContext context, bool locking)
    {
        int level = s.Levels[slot];
        bool holdingEntry = false;
        _entryLock.Enter();
        try
        {
            long entry = _entry;
            int entrySlot = (int)entry, top = (int)(entry >> 32);
            if (level > top) holdingEntry = true; // this node becomes the entry point: no other may race it
            else _entryLock.Exit();

            int current = entrySlot;
            float currentKey;
            if (level < top)
                current = GreedyDescent(s, query, current, top, level + 1, locking, out currentKey);
            else
                currentKey = KeyOf(query, RowOf(s, current));
            for (int layer = Math.Min(level, top); layer >= 0; layer--)
            {
                SearchLayerForInsert(s, query, current, currentKey, layer, context, locking);
                current = Connect(s, slot, layer, current, context, locking);
                currentKey = KeyOf(query, RowOf(s, current));
            }
            if (holdingEntry) Volatile.Write(ref _entry, (long)level << 32 | (uint)slot);
        }
        finally
        {
            if (holdingEntry) _entryLock.Exit();
        }
    }

    // hnswlib's mutuallyConnectNewElement; returns the closest selected neighbour, the next layer's entry
    // (or `fallback` when the search found only removed nodes).
    private unsafe int Connect(Storage s, int slot, int layer, int fallback, HnswSearchContext context, bool locking)
    {
        int capacity = layer == 0 ? _m0 : _m;
        HnswHeap top = context.Top;
        int n = top.Count;
        float[] keys = context.Keys(n + 1);
        int[] slots = context.Slots(n + 1);
        top.Keys.CopyTo(keys);
        top.Slots.CopyTo(slots);
        int self = slots.AsSpan(0, n).IndexOf(slot);
        if (self >= 0)
        {
            // Another thread's links can lead the search back to this node; it must not link to itself.
            keys[self] = keys[n - 1];
            slots[self] = slots[n - 1];
            n--;
        }
        keys.AsSpan(0, n).Sort(slots.AsSpan(0, n));
        int selected = SelectByHeuristic(s, keys, slots, n, _m, context);
        if (selected == 0) return fallback;

        Span<int> own = ListOf(s, slot, layer);
        Lock? gate = locking ? _locks[slot & (LockStripes - 1)] : null;
        gate?.Enter();
        try
        {
            slots.AsSpan(0, selected).CopyTo(own[1..]);
            Volatile.Write(ref own[0], selected);
        }
        finally
        {
            gate?.Exit();
        }

        int closest = slots[0];
        int[] chosen = context.NeighbourBuffer(_m0 + 1);
        slots.AsSpan(0, selected).CopyTo(chosen);
        float[] repairKeys = context.RepairKeys(capacity + 1);
        int[] repairSlots = context.RepairSlots(capacity + 1);
        for (int i = 0; i < selected; i++)
        {
            int neighbour = chosen[i];
            Lock? neighbourGate = locking ? _locks[neighbour & (LockStripes - 1)] : null;
            neighbourGate?.Enter();
            try
            {
                Span<int> list = ListOf(s, neighbour, layer);
                int count = list[0];
                if (count < capacity)
                {
                    list[count + 1] = slot;
                    Volatile.Write(ref list[0], count + 1);
                    continue;
                }
                float* origin = NodeVector(s, neighbour, context, 0);
                repairSlots[0] = slot;
                list.Slice(1, count).CopyTo(repairSlots.AsSpan(1));
                KeysOf(s, origin, repairSlots.AsSpan(0, count + 1), repairKeys);
                repairKeys.AsSpan(0, count + 1).Sort(repairSlots.AsSpan(0, count + 1));
                int kept = SelectByHeuristic(s, repairKeys, repairSlots, count + 1, capacity, context);
                // Lock-free readers may see a mix of old and new neighbours while this copies; both are valid slots.
                repairSlots.AsSpan(0, kept).CopyTo(list[1..]);
                Volatile.Write(ref list[0], kept);
            }
            finally
            {
                neighbourGate?.Exit();
            }
        }
        return closest;
    }

    // Algorithm 4 of the paper (hnswlib's getNeighborsByHeuristic2) on candidates sorted by key ascending:
    // a candidate is kept only when it is closer to the base than to every node already kept, which spreads
    // links in different directions. The kept candidates are compacted to the front; returns how many.
    private unsafe int SelectByHeuristic(Storage s, float[] keys, int[] slots, int count, int limit, HnswSearchContext context)
    {
        if (count < limit) return count;
        int kept = 0;
        for (int i = 0; i < count && kept < limit; i++)
        {
            int candidate = slots[i];
            float* vector = NodeVector(s, candidate, context, 1);
            if (!AnyCloser(s, vector, slots.AsSpan(0, kept), keys[i], context))
            {
                keys[kept] = keys[i];
                slots[kept] = candidate;
                kept++;
            }
        }
        return kept;
    }

    // Whether any of the rows `slots` is closer to `vector` than `key`; four rows at a time where rows are floats.
    private unsafe bool AnyCloser(Storage s, float* vector, ReadOnlySpan<int> slots, float key, HnswSearchContext context)
    {
        Span<float> keys = context.Pending(_m0).Keys;
        int start = 0;
        if (_quantizer is null)
        {
            for (; start + 4 <= slots.Length; start += 4)
            {
                KeysOf(s, vector, slots.Slice(start, 4), keys);
                if (Vector128.LessThanAny(Vector128.LoadUnsafe(ref keys[0]), Vector128.Create(key))) return true;
            }
        }
        for (; start < slots.Length; start++)
            if (KeyOf(vector, RowOf(s, slots[start])) < key) return true;
        return false;
    }

    // A node's level depends only on the seed and its slot (SplitMix64), so parallel builds and reloaded
    // indexes draw the same levels as a sequential build would.
    private int LevelOf(int slot)
    {
        ulong z = unchecked((ulong)Seed * 0x9E3779B97F4A7C15UL + (ulong)slot * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        double uniform = ((z >> 11) + 1) * (1.0 / (1UL << 53)); // (0, 1]
        return (int)Math.Min(MaxLevel, -Math.Log(uniform) * _levelScale);
    }

    private void EnsureCapacity(int needed)
    {
        Storage old = _storage;
        if (old.Capacity >= needed) return;
        int capacity = (int)Math.Min(MaxNodes, Math.Max(needed, Math.Max(1024L, old.Capacity * 2L)));
        var grown = new Storage(capacity, _rowBytes, _m0);
        old.Rows.AsSpan(old.RowOffset, _count * _rowBytes).CopyTo(grown.Rows.AsSpan(grown.RowOffset));
        old.Links0.AsSpan(0, _count * (_m0 + 1)).CopyTo(grown.Links0);
        // Upper lists are copied too, so the old storage is frozen: a search still on it never follows a
        // link to a node that exists only in the new one.
        for (int i = 0; i < _count; i++) grown.Upper[i] = (int[]?)old.Upper[i]?.Clone();
        old.Ids.AsSpan(0, _count).CopyTo(grown.Ids);
        old.Levels.AsSpan(0, _count).CopyTo(grown.Levels);
        old.Deleted.AsSpan(0, _count).CopyTo(grown.Deleted);
        // Searches that already hold the old storage finish on it; it holds every node they can reach.
        Volatile.Write(ref _storage, grown);
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        lock (_writeLock)
        {
            Storage s = _storage;
            int count = _count;
            writer.WriteInt32(Dimension);
            writer.WriteInt32((int)Metric);
            writer.WriteInt32(_m);
            writer.WriteInt32(_efConstruction);
            writer.WriteInt32(_efSearch);
            writer.WriteInt32(Seed);
            writer.WriteInt64(NextId);
            writer.WriteInt32(count);
            writer.WriteInt64(_entry);
            _quantizer?.WriteTo(writer);
            writer.WriteSpan<long>(s.Ids.AsSpan(0, count));
            writer.WriteSpan<byte>(s.Levels.AsSpan(0, count));
            writer.WriteSpan<byte>(s.Deleted.AsSpan(0, count));
            writer.WriteSpan<byte>(s.Rows.AsSpan(s.RowOffset, count * _rowBytes));
            writer.WriteSpan<int>(s.Links0.AsSpan(0, count * (_m0 + 1)));
            for (int i = 0; i < count; i++)
                if (s.Upper[i] is { } links) writer.WriteSpan<int>(links);
        }
    }

    internal static HnswIndex ReadPayload(IndexPayloadReader reader) => ReadPayload(reader, quantized: false);

    internal static HnswIndex ReadQuantizedPayload(IndexPayloadReader reader) => ReadPayload(reader, quantized: true);

    private static HnswIndex ReadPayload(IndexPayloadReader reader, bool quantized)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        int m = reader.ReadInt32("M", 2, MaxM);
        int efConstruction = reader.ReadInt32("efConstruction", 1, int.MaxValue);
        int efSearch = reader.ReadInt32("efSearch", 1, int.MaxValue);
        int seed = reader.ReadInt32();
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        int m0 = 2 * m;
        int count = reader.ReadInt32("node count", 0, (int.MaxValue - 64) / Math.Max(dimension * sizeof(float), (m0 + 1) * sizeof(int)));
        long entry = reader.ReadInt64();
        ScalarQuantizer? quantizer = quantized ? ScalarQuantizer.ReadFrom(reader, dimension) : null;
        int rowBytes = quantizer?.CodeSize ?? dimension * sizeof(float);
        long[] ids = reader.ReadArray<long>(count, "ids");
        byte[] levels = reader.ReadArray<byte>(count, "levels");
        byte[] deleted = reader.ReadArray<byte>(count, "deleted flags");
        byte[] rows = reader.ReadArray<byte>((long)count * rowBytes, quantized ? "codes" : "vectors");
        int[] links0 = reader.ReadArray<int>((long)count * (m0 + 1), "layer-0 links");

        var index = new HnswIndex(dimension, quantizer, metric, m, efConstruction, seed) { _efSearch = efSearch };
        index.EnsureCapacity(count);
        Storage s = index._storage;
        int live = 0;
        int topLevel = -1;
        for (int i = 0; i < count; i++)
        {
            if (levels[i] > MaxLevel) throw reader.Corrupt($"node {i} has level {levels[i]}, above the maximum {MaxLevel}");
            if (deleted[i] > 1) throw reader.Corrupt($"node {i} has deleted flag {deleted[i]}");
            if (ids[i] < 0 || ids[i] >= nextId) throw reader.Corrupt($"id {ids[i]} is negative or not below the next id {nextId}");
            if (deleted[i] == 0)
            {
                if (!index._slotOf.TryAdd(ids[i], i)) throw reader.Corrupt($"id {ids[i]} is stored twice");
                live++;
            }
            if (levels[i] > 0)
            {
                int[] upper = reader.ReadArray<int>((long)levels[i] * (m + 1), $"upper links of node {i}");
                for (int level = 1; level <= levels[i]; level++)
                    CheckLinks(reader, upper.AsSpan((level - 1) * (m + 1), m + 1), m, i, level, count, levels);
                s.Upper[i] = upper;
            }
            CheckLinks(reader, links0.AsSpan(i * (m0 + 1), m0 + 1), m0, i, 0, count, levels);
            topLevel = Math.Max(topLevel, levels[i]);
        }
        if (count == 0 ? entry != -1 : (int)entry < 0 || (int)entry >= count || entry >> 32 != levels[(int)entry] || levels[(int)entry] != topLevel)
            throw reader.Corrupt($"entry point {entry} is not a node on the top level (node count {count}, top level {topLevel})");
        if (!quantized)
            foreach (float value in MemoryMarshal.Cast<byte, float>(rows))
                if (!float.IsFinite(value)) throw reader.Corrupt("a stored vector has a NaN or infinite component");

        rows.CopyTo(s.Rows, s.RowOffset);
        links0.CopyTo(s.Links0, 0);
        ids.CopyTo(s.Ids, 0);
        levels.CopyTo(s.Levels, 0);
        deleted.CopyTo(s.Deleted, 0);
        index._count = count;
        index._live = live;
        index._entry = entry;
        index.NextId = nextId;
        return index;
    }

    // Link targets must be real nodes that exist on the layer, or the descent would read links a node lacks.
    private static void CheckLinks(IndexPayloadReader reader, ReadOnlySpan<int> list, int capacity, int node, int level, int count, byte[] levels)
    {
        int links = list[0];
        if (links < 0 || links > capacity)
            throw reader.Corrupt($"node {node} has {links} links on layer {level}; at most {capacity} are allowed");
        for (int j = 1; j <= links; j++)
        {
            int target = list[j];
            if (target < 0 || target >= count || target == node || levels[target] < level)
                throw reader.Corrupt($"node {node} links to {target} on layer {level}, which is not a node on that layer");
        }
    }

    // Everything a search reads, swapped as one object when the index grows, so a concurrent search always
    // sees arrays of the same generation. Rows and layer-0 links sit on the pinned heap so the hot loop
    // can use raw pointers without pinning per query.
    private sealed unsafe class Storage
    {
        public Storage(int capacity, int rowBytes, int m0)
        {
            Capacity = capacity;
            // 64 spare bytes let the rows start on a cache line.
            Rows = GC.AllocateArray<byte>(capacity * rowBytes + 64, pinned: true);
            Links0 = GC.AllocateArray<int>(capacity * (m0 + 1), pinned: true);
            Upper = new int[]?[capacity];
            Ids = new long[capacity];
            Levels = new byte[capacity];
            Deleted = new byte[capacity];
            byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Rows));
            RowOffset = (int)((64 - (nint)start % 64) % 64);
            RowBase = start + RowOffset;
            LinkBase = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Links0));
        }

        public readonly int Capacity;
        public readonly byte[] Rows;     // RowOffset bytes of padding, then the rows
        public readonly int RowOffset;
        public readonly int[] Links0;
        public readonly int[]?[] Upper;
        public readonly long[] Ids;
        public readonly byte[] Levels;
        public readonly byte[] Deleted;
        public readonly byte* RowBase;
        public readonly int* LinkBase;
    }
}
