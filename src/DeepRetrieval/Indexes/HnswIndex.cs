using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Approximate search on a hierarchical navigable small-world graph (Malkov &amp; Yashunin, as hnswlib):
/// greedy descent through the sparse upper layers, then a beam search of width <c>ef</c> on layer 0.
/// Neighbours are chosen with the paper's heuristic (Algorithm 4, hnswlib's <c>getNeighborsByHeuristic2</c>).
/// </summary>
/// <remarks>
/// <para>Layout: all vectors in one row-major array (row = internal slot), layer-0 links in one array of
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
/// <para>Removal is a tombstone: the node keeps routing searches but is never returned, and its memory is
/// not reclaimed. Filters are applied the same way (filtered nodes still route); a very selective filter
/// makes the search visit much of the graph. <see cref="VectorIndex.RangeSearch"/> is approximate: it runs
/// the k-NN search with k = ef, doubling ef (from at least 32) until the ef-th result lies outside the radius
/// or ef covers every node; it never returns a vector outside the radius but may miss some inside it.</para>
/// </remarks>
public sealed class HnswIndex : VectorIndex
{
    internal const string KindName = "HNSW";

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
        _locks = new Lock[LockStripes];
        for (int i = 0; i < _locks.Length; i++) _locks[i] = new Lock();
        _storage = new Storage(0, dimension, _m0);
        _entry = -1;
    }

    /// <inheritdoc />
    public override long Count => Volatile.Read(ref _live);

    /// <inheritdoc />
    public override string Kind => KindName;

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
                return (long)s.Vectors.Length * sizeof(float) + (long)s.Links0.Length * sizeof(int) + upper
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
                if (_slotOf.ContainsKey(id)) throw new ArgumentException($"Id {id} is already in the index; remove it first to replace its vector.", nameof(ids));
            }
            if ((long)_count + rows > int.MaxValue / Math.Max(Dimension, _m0 + 1))
                throw new InvalidOperationException($"An HNSW index of dimension {Dimension} and M {_m} holds at most {int.MaxValue / Math.Max(Dimension, _m0 + 1)} vectors.");
            int first = _count;
            EnsureCapacity(first + rows);
            Storage s = _storage;
            vectors.CopyTo(s.Vectors.AsSpan(first * Dimension, rows * Dimension));
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
            if (threads <= 1)
            {
                var context = HnswSearchContext.Rent();
                try
                {
                    for (int r = start; r < rows; r++) Insert(s, first + r, context, locking: false);
                }
                finally
                {
                    HnswSearchContext.Return(context);
                }
            }
            else
            {
                Parallel.For(start, rows, new ParallelOptions { MaxDegreeOfParallelism = threads },
                    () => HnswSearchContext.Rent(),
                    (r, _, context) => { Insert(s, first + r, context, locking: true); return context; },
                    HnswSearchContext.Return);
            }
            for (int r = 0; r < rows; r++) _slotOf[ids[r]] = first + r;
            Volatile.Write(ref _live, _live + rows);
        }
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
            int removed = 0;
            Storage s = _storage;
            foreach (long id in ids)
            {
                if (!_slotOf.Remove(id, out int slot)) continue; // listed twice
                Volatile.Write(ref s.Deleted[slot], 1);
                removed++;
            }
            Volatile.Write(ref _live, _live - removed);
            return removed;
        }
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
                if (_innerProduct)
                    SearchLayer0<InnerProductKey>(s, query, current, currentKey, Math.Max(ef, k), context, restricted, filter);
                else
                    SearchLayer0<L2Key>(s, query, current, currentKey, Math.Max(ef, k), context, restricted, filter);
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe float KeyOf(float* query, float* vector) => _innerProduct
        ? -Distance.InnerProductUnchecked(ref *query, ref *vector, Dimension)
        : Distance.SquaredL2Unchecked(ref *query, ref *vector, Dimension);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe float* VectorOf(Storage s, int slot) => s.VectorBase + (long)slot * Dimension;

    // Walks down from the top layer to layer `bottom`, at each layer moving to the closest neighbour until
    // none is closer. Deleted nodes route like any other.
    private unsafe int GreedyDescent(Storage s, float* query, int current, int fromLevel, int bottom, bool locking, out float currentKey)
    {
        currentKey = KeyOf(query, VectorOf(s, current));
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
                        float key = KeyOf(query, VectorOf(s, candidate));
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
        int dimension = Dimension;
        int* links0 = s.LinkBase;
        float* vectors = s.VectorBase;
        byte[] deleted = s.Deleted;
        long[] ids = s.Ids;

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
            if (count > 0)
            {
                Sse.Prefetch0(visited + list[1]);
                Sse.Prefetch0(vectors + (long)list[1] * dimension);
            }
            for (int j = 1; j <= count; j++)
            {
                int neighbour = list[j];
                if (j < count)
                {
                    int next = list[j + 1];
                    Sse.Prefetch0(visited + next);
                    Sse.Prefetch0(vectors + (long)next * dimension);
                }
                if ((uint)neighbour >= (uint)capacity || visited[neighbour] == stamp) continue;
                visited[neighbour] = stamp;
                float key = TKey.Of(query, vectors + (long)neighbour * dimension, dimension);
                if (top.Count < ef || key < lowerBound)
                {
                    candidates.Push(-key, neighbour);
                    // The next node to expand is usually decided by now: start loading its link list.
                    Sse.Prefetch0(links0 + (long)candidates.TopSlot * stride);
                    if (Allowed(neighbour))
                    {
                        top.Push(key, neighbour);
                        if (top.Count > ef) top.Pop();
                    }
                    if (top.Count > 0) lowerBound = top.TopKey;
                }
            }
        }

        bool Allowed(int slot) => deleted[slot] == 0 && (filter is null || filter(ids[slot]));
    }

    private unsafe interface IKey
    {
        static abstract float Of(float* query, float* vector, int dimension);
    }

    private readonly unsafe struct L2Key : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, float* vector, int dimension) => Distance.SquaredL2Unchecked(ref *query, ref *vector, dimension);
    }

    private readonly unsafe struct InnerProductKey : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, float* vector, int dimension) => -Distance.InnerProductUnchecked(ref *query, ref *vector, dimension);
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
            for (int j = 0; j < count; j++)
            {
                int neighbour = buffer[j];
                if (j + 1 < count) Sse.Prefetch0(VectorOf(s, buffer[j + 1]));
                if (visited[neighbour] == stamp) continue;
                visited[neighbour] = stamp;
                float key = KeyOf(query, VectorOf(s, neighbour));
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
    private unsafe void Insert(Storage s, int slot, HnswSearchContext context, bool locking)
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

            float* query = VectorOf(s, slot);
            int current = entrySlot;
            float currentKey;
            if (level < top)
                current = GreedyDescent(s, query, current, top, level + 1, locking, out currentKey);
            else
                currentKey = KeyOf(query, VectorOf(s, current));
            for (int layer = Math.Min(level, top); layer >= 0; layer--)
            {
                SearchLayerForInsert(s, query, current, currentKey, layer, context, locking);
                current = Connect(s, slot, layer, current, context, locking);
                currentKey = KeyOf(query, VectorOf(s, current));
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
        int selected = SelectByHeuristic(s, keys, slots, n, _m);
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
                float* origin = VectorOf(s, neighbour);
                repairKeys[0] = KeyOf(origin, VectorOf(s, slot));
                repairSlots[0] = slot;
                for (int j = 0; j < count; j++)
                {
                    repairSlots[j + 1] = list[j + 1];
                    repairKeys[j + 1] = KeyOf(origin, VectorOf(s, list[j + 1]));
                }
                repairKeys.AsSpan(0, count + 1).Sort(repairSlots.AsSpan(0, count + 1));
                int kept = SelectByHeuristic(s, repairKeys, repairSlots, count + 1, capacity);
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
    private unsafe int SelectByHeuristic(Storage s, float[] keys, int[] slots, int count, int limit)
    {
        if (count < limit) return count;
        int kept = 0;
        for (int i = 0; i < count && kept < limit; i++)
        {
            int candidate = slots[i];
            float* vector = VectorOf(s, candidate);
            bool good = true;
            for (int j = 0; j < kept; j++)
            {
                if (KeyOf(vector, VectorOf(s, slots[j])) < keys[i])
                {
                    good = false;
                    break;
                }
            }
            if (good)
            {
                keys[kept] = keys[i];
                slots[kept] = candidate;
                kept++;
            }
        }
        return kept;
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
        int capacity = (int)Math.Min(int.MaxValue / Math.Max(Dimension, _m0 + 1), Math.Max(needed, Math.Max(1024L, old.Capacity * 2L)));
        var grown = new Storage(capacity, Dimension, _m0);
        old.Vectors.AsSpan(0, _count * Dimension).CopyTo(grown.Vectors);
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
            writer.WriteSpan<long>(s.Ids.AsSpan(0, count));
            writer.WriteSpan<byte>(s.Levels.AsSpan(0, count));
            writer.WriteSpan<byte>(s.Deleted.AsSpan(0, count));
            writer.WriteSpan<float>(s.Vectors.AsSpan(0, count * Dimension));
            writer.WriteSpan<int>(s.Links0.AsSpan(0, count * (_m0 + 1)));
            for (int i = 0; i < count; i++)
                if (s.Upper[i] is { } links) writer.WriteSpan<int>(links);
        }
    }

    internal static HnswIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        int m = reader.ReadInt32("M", 2, MaxM);
        int efConstruction = reader.ReadInt32("efConstruction", 1, int.MaxValue);
        int efSearch = reader.ReadInt32("efSearch", 1, int.MaxValue);
        int seed = reader.ReadInt32();
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        int m0 = 2 * m;
        int count = reader.ReadInt32("node count", 0, int.MaxValue / Math.Max(dimension, m0 + 1));
        long entry = reader.ReadInt64();
        long[] ids = reader.ReadArray<long>(count, "ids");
        byte[] levels = reader.ReadArray<byte>(count, "levels");
        byte[] deleted = reader.ReadArray<byte>(count, "deleted flags");
        float[] vectors = reader.ReadArray<float>((long)count * dimension, "vectors");
        int[] links0 = reader.ReadArray<int>((long)count * (m0 + 1), "layer-0 links");

        var index = new HnswIndex(dimension, metric, m, efConstruction, seed) { _efSearch = efSearch };
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
        foreach (float value in vectors)
            if (!float.IsFinite(value)) throw reader.Corrupt("a stored vector has a NaN or infinite component");

        vectors.CopyTo(s.Vectors, 0);
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
    // sees arrays of the same generation. Vectors and layer-0 links sit on the pinned heap so the hot loop
    // can use raw pointers without pinning per query.
    private sealed unsafe class Storage
    {
        public Storage(int capacity, int dimension, int m0)
        {
            Capacity = capacity;
            Vectors = GC.AllocateArray<float>(capacity * dimension, pinned: true);
            Links0 = GC.AllocateArray<int>(capacity * (m0 + 1), pinned: true);
            Upper = new int[]?[capacity];
            Ids = new long[capacity];
            Levels = new byte[capacity];
            Deleted = new byte[capacity];
            VectorBase = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Vectors));
            LinkBase = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Links0));
        }

        public readonly int Capacity;
        public readonly float[] Vectors;
        public readonly int[] Links0;
        public readonly int[]?[] Upper;
        public readonly long[] Ids;
        public readonly byte[] Levels;
        public readonly byte[] Deleted;
        public readonly float* VectorBase;
        public readonly int* LinkBase;
    }
}
