using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DeepRetrieval.Distances;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Hnsw;

/// <summary>
/// The navigable small-world graph of an <see cref="HnswIndex"/>: per-node levels and labels, layer-0 and upper-layer
/// links, the entry point, and the algorithms over them (greedy descent, the layer-0 beam search, insertion with the
/// paper's neighbour heuristic, delete consolidation, connectivity repair). Distances come from the
/// <see cref="VectorCodec"/> the index stores its vectors with: raw floats, scalar-quantized or product-quantized codes.
/// </summary>
/// <remarks>
/// Node rows (floats or codes) live in the same generation object as the links (<see cref="Storage"/>), so a search that
/// races a growing add always reads rows and links of one generation; what a row means is the codec's. The graph does not
/// lock adds, removes or saves against each other (its index does, with its write lock); it does lock neighbour lists
/// during parallel inserts and keeps searches valid beside all of it.
/// </remarks>
internal sealed unsafe class HnswGraph
{
    // Levels are drawn from a geometric distribution; capping them keeps a corrupt or adversarial seed from
    // allocating absurd link lists, and a level above 30 has probability below M^-30.
    internal const int MaxLevel = 30;
    internal const int MaxM = 1024;
    private const int LockStripes = 1 << 12;

    private readonly int _m;
    private readonly int _m0;
    private readonly int _efConstruction;
    private readonly double _levelScale;
    private readonly bool _innerProduct;
    private readonly bool _floats;
    private readonly VectorCodec _codec;
    private readonly int _rowBytes;
    private readonly int _dimension;
    private readonly Lock[] _locks;
    private readonly Lock _entryLock = new();
    private Storage _storage;
    private int _count;     // slots used, deleted ones included
    private int _live;
    private long _entry;    // entry slot in the low 32 bits, top level in the high 32; -1 when empty

    public HnswGraph(VectorCodec codec, int m, int efConstruction, int seed)
    {
        if (m is < 2 or > MaxM)
            throw new ArgumentOutOfRangeException(nameof(m), m, $"M must be between 2 and {MaxM}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(efConstruction);
        _codec = codec;
        _m = m;
        _m0 = 2 * m;
        _efConstruction = efConstruction;
        Seed = seed;
        _levelScale = 1.0 / Math.Log(m);
        _innerProduct = codec.Similarity;
        _floats = codec is FloatCodec;
        _rowBytes = codec.CodeSize;
        _dimension = codec.Dimension;
        _locks = new Lock[LockStripes];
        for (int i = 0; i < _locks.Length; i++) _locks[i] = new Lock();
        _storage = new Storage(0, _rowBytes, _m0);
        _entry = -1;
    }

    public int Dimension => _dimension;

    public int M => _m;

    public int EfConstruction => _efConstruction;

    public int Seed { get; }

    public int RowBytes => _rowBytes;

    /// <summary>Slots in use, removed nodes included.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Nodes not removed.</summary>
    public int Live => Volatile.Read(ref _live);

    /// <summary>The entry slot in the low 32 bits and its level in the high 32; −1 when the graph is empty.</summary>
    public long Entry => Volatile.Read(ref _entry);

    /// <summary>The current generation of node arrays (it only grows; a reader may keep an older one).</summary>
    public Storage Nodes => Volatile.Read(ref _storage);

    public int MaxNodes => (int.MaxValue - 64) / Math.Max(_rowBytes, (_m0 + 1) * sizeof(int));

    /// <summary>Bytes of rows, links, labels, levels and flags.</summary>
    public long MemoryUsageBytes
    {
        get
        {
            Storage s = _storage;
            long upper = 0;
            for (int i = 0; i < _count; i++)
                if (s.Upper[i] is { } links) upper += (long)links.Length * sizeof(int);
            return s.Rows.LongLength + (long)s.Links0.Length * sizeof(int) + upper
                + (long)s.Upper.Length * IntPtr.Size + (long)s.Ids.Length * sizeof(long)
                + s.Levels.Length + s.Deleted.Length;
        }
    }

    /// <summary>The stored row (float bytes or code) of a slot; lock-free, as a node's row is written before its label is published.</summary>
    public ReadOnlySpan<byte> Row(int slot)
    {
        Storage s = Volatile.Read(ref _storage);
        return s.RowSpan((long)slot * _rowBytes, _rowBytes);
    }

    /// <summary>How many live nodes a layer-0 walk from the entry point cannot reach.</summary>
    public int CountUnreachable()
    {
        Storage s = _storage;
        bool[] reached = new bool[_count];
        if (_entry >= 0) Reach(s, (int)_entry, reached);
        int missing = 0;
        for (int i = 0; i < _count; i++)
            if (!reached[i] && s.Deleted[i] == 0) missing++;
        return missing;
    }

    /// <summary>Live nodes that still link to a removed one (0 after every removal).</summary>
    public int CountLinksToRemoved()
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

    /// <summary>
    /// Appends one node per label with the given labels, their rows encoded from <paramref name="vectors"/>, and
    /// links them in (in parallel on <paramref name="threads"/> threads for large batches). New nodes search with their
    /// original floats, as Faiss does for quantized storage. Returns the first new slot.
    /// </summary>
    public int Append(ReadOnlySpan<float> vectors, ReadOnlySpan<long> labels, int threads)
    {
        int rows = labels.Length;
        if ((long)_count + rows > MaxNodes)
            throw new InvalidOperationException($"An HNSW index of dimension {Dimension} and M {_m} holds at most {MaxNodes} vectors.");
        int first = _count;
        EnsureCapacity(first + rows);
        Storage s = _storage;
        Span<byte> newRows = s.Rows.AsSpan(s.RowOffset + first * _rowBytes, rows * _rowBytes);
        int dimension = Dimension;
        for (int r = 0; r < rows; r++)
            _codec.Encode(vectors.Slice(r * dimension, dimension), newRows.Slice(r * _rowBytes, _rowBytes));
        for (int r = 0; r < rows; r++)
        {
            int slot = first + r;
            s.Ids[slot] = labels[r];
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
        threads = Math.Min(threads, (rows - start) / 64 + 1); // small batches are not worth the threads
        // Concurrent searches reach a new slot only through links, which exist only once it is fully
        // written, so the slot count can be published before the insertion.
        Publish(first + rows);
        fixed (float* input = vectors)
        {
            if (threads <= 1)
            {
                var context = HnswSearchContext.Rent();
                try
                {
                    for (int r = start; r < rows; r++) Insert(s, first + r, input + (long)r * dimension, context, locking: false);
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
        Volatile.Write(ref _live, _live + rows);
        return first;
    }

    /// <summary>Tombstones the slots and relinks every live node that linked to one of them.</summary>
    public void Remove(HashSet<int> slots)
    {
        Storage s = _storage;
        foreach (int slot in slots) Volatile.Write(ref s.Deleted[slot], 1);
        Volatile.Write(ref _live, _live - slots.Count);
        Unlink(s, slots);
    }

    /// <summary>Installs arrays read from a file (validated by the caller with <see cref="CheckLinks"/>).</summary>
    public void Load(int count, int live, long entry, byte[] rows, int[] links0, int[]?[] upper, long[] labels, byte[] levels, byte[] deleted)
    {
        EnsureCapacity(count);
        Storage s = _storage;
        rows.CopyTo(s.Rows, s.RowOffset);
        links0.CopyTo(s.Links0, 0);
        labels.CopyTo(s.Ids, 0);
        levels.CopyTo(s.Levels, 0);
        deleted.CopyTo(s.Deleted, 0);
        for (int i = 0; i < count; i++) s.Upper[i] = upper[i];
        _count = count;
        _live = live;
        _entry = entry;
    }

    /// <summary>
    /// Installs a read-only graph whose rows and layer-0 links are used in place from a mapped file (validated by the caller:
    /// upper links with <see cref="CheckLinks"/>; layer-0 neighbour ids are checked by the search loop as it follows them).
    /// </summary>
    public void LoadMapped(int count, int live, long entry, byte* rows, int* links0, int[]?[] upper, long[] labels, byte[] levels, byte[] deleted)
    {
        _storage = new Storage(count, rows, links0, upper, labels, levels, deleted);
        _count = count;
        _live = live;
        _entry = entry;
    }

    /// <summary>Relinks nodes a layer-0 walk from the entry point cannot reach; returns how many.</summary>
    public int RepairConnectivity() => RepairConnectivityLocked();

    private unsafe int RepairConnectivityLocked()
    {
        Storage s = _storage;
        int count = _count;
        if (count < 2 || _entry < 0) return 0;
        int stride = _m0 + 1;
        var reached = new bool[count];
        var inDegree = new int[count];
        int repaired = 0;
        var context = HnswSearchContext.Rent();
        try
        {
            // A replaced link can strand a node that an earlier pass saw as reachable, so walk again until clean.
            for (int pass = 0; pass < 16; pass++)
            {
                Array.Clear(reached);
                Reach(s, (int)_entry, reached);
                // Only links from reachable nodes keep a target reachable, so only they count: a link may be replaced
                // when its target has another way in from the reachable part of the graph.
                Array.Clear(inDegree);
                for (int i = 0; i < count; i++)
                {
                    if (!reached[i]) continue;
                    ReadOnlySpan<int> list = s.LinkSpan((long)i * stride, stride);
                    for (int j = 1; j <= list[0]; j++) inDegree[list[j]]++;
                }
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
            ReadOnlySpan<int> list = s.LinkSpan((long)node * stride, stride);
            for (int j = 1; j <= list[0]; j++)
            {
                int next = list[j];
                if ((uint)next < (uint)reached.Length && !reached[next])
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
        // Hosts with a free slot first, the beam's then any reachable node's (nearest first): replacing a link can strand
        // the part of the graph hanging off its target, so it is the last resort. The scan of every node runs only for
        // an orphan the beam cannot place, which is rare.
        var beam = new List<int>(n);
        for (int i = 0; i < n; i++)
            if (slots[i] != orphan && reached[slots[i]]) beam.Add(slots[i]);
        foreach (int host in beam)
            if (TryLinkFrom(s, host, orphan, inDegree, replace: false, context)) return true;
        var everyone = new List<(float Key, int Host)>();
        for (int host = 0; host < _count; host++)
            if (host != orphan && reached[host] && s.Deleted[host] == 0) everyone.Add((KeyOf(query, RowOf(s, host)), host));
        everyone.Sort();
        foreach (var (_, host) in everyone)
            if (TryLinkFrom(s, host, orphan, inDegree, replace: false, context)) return true;
        foreach (var (_, host) in everyone)
            if (TryLinkFrom(s, host, orphan, inDegree, replace: true, context)) return true;
        return false;
    }

    // Links `orphan` from `host`: into a free slot of its layer-0 list, else (when `replace`) in place of its farthest link
    // whose target another reachable node also links to.
    private unsafe bool TryLinkFrom(Storage s, int host, int orphan, int[] inDegree, bool replace, HnswSearchContext context)
    {
        int stride = _m0 + 1;
        Span<int> list = s.LinkSpan((long)host * stride, stride);
        int links = list[0];
        int position;
        if (links < _m0)
        {
            position = links + 1;
        }
        else
        {
            if (!replace) return false;
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
            if (position < 0) return false;
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

    // Kept apart from AddCore so the closure is allocated only for parallel inserts.
    private unsafe void InsertParallel(Storage s, int first, int start, int rows, float* input, int threads)
    {
        int dimension = Dimension;
        Parallel.For(start, rows, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => HnswSearchContext.Rent(),
            (r, _, context) => { Insert(s, first + r, input + (long)r * dimension, context, locking: true); return context; },
            HnswSearchContext.Return);
    }

    private void Publish(int count) => Volatile.Write(ref _count, count);

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

    /// <summary>
    /// The k nearest allowed nodes' labels and keys-turned-distances for one prepared query (hnswlib's searchKnn): greedy
    /// descent, then the layer-0 beam of width max(ef, k). Allocates nothing once the thread's context is warm.
    /// </summary>
    public void Search(float* query, int k, int ef, Func<long, bool>? filter, long* outIds, float* outDistances) =>
        TrySearch(query, k, ef, filter, int.MaxValue, outIds, outDistances);

    /// <summary>
    /// <see cref="Search"/> that gives up once the beam has compared <paramref name="budget"/> nodes (a filter whose
    /// allowed nodes lie far from the query makes it wade through everything closer): returns false, results unset.
    /// </summary>
    public bool TrySearch(float* query, int k, int ef, Func<long, bool>? filter, int budget, long* outIds, float* outDistances)
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
                // SQ8 with L2 walks in integers from the top layer down: the query's own code against the stored ones.
                Sq8IntegerL2? integer = _codec is ScalarCodec { Quantizer.Type: ScalarQuantizerType.SQ8 } sq8 && !_innerProduct ? sq8.Quantizer.IntegerL2 : null;
                short* codes = null;
                int current;
                float currentKey;
                if (integer is not null)
                {
                    codes = (short*)context.QueryTable((_dimension + 1) / 2);
                    Sq8IntegerL2.EncodeQuery(((ScalarCodec)_codec).Quantizer, new ReadOnlySpan<float>(query, _dimension), codes);
                    current = DescendForSearch<Sq8IntegerL2Key>(s, (float*)codes, _dimension, integer, (int)entry, (int)(entry >> 32), out currentKey);
                }
                else
                {
                    current = GreedyDescent(s, query, (int)entry, (int)(entry >> 32), 1, locking: false, out currentKey);
                }
                bool restricted = filter is not null || Volatile.Read(ref _live) != Volatile.Read(ref _count);
                int width = Math.Max(ef, k);
                bool rescore = false;
                bool completed;
                switch (_codec)
                {
                    case FloatCodec when _innerProduct:
                        completed = SearchLayer0<InnerProductKey>(s, query, _dimension, null, current, currentKey, width, context, restricted, filter, budget);
                        break;
                    case FloatCodec:
                        completed = SearchLayer0<L2Key>(s, query, _dimension, null, current, currentKey, width, context, restricted, filter, budget);
                        break;
                    case ScalarCodec when integer is not null:
                        // The kept nodes then get the float query's distances to their codes, which is what HNSW_SQ returns.
                        completed = SearchLayer0<Sq8IntegerL2Key>(s, (float*)codes, _dimension, integer, current, currentKey, width, context, restricted, filter, budget);
                        rescore = true;
                        break;
                    case ScalarCodec scalar when _innerProduct:
                        completed = SearchLayer0<QuantizedInnerProductKey>(s, query, _dimension, scalar.Quantizer, current, currentKey, width, context, restricted, filter, budget);
                        break;
                    case ScalarCodec scalar:
                        completed = SearchLayer0<QuantizedL2Key>(s, query, _dimension, scalar.Quantizer, current, currentKey, width, context, restricted, filter, budget);
                        break;
                    default:
                        // Table-driven codes (PQ): one ADC table per query, then M lookups per node.
                        float* table = context.QueryTable(_codec.QueryTableSize);
                        var tableSpan = new ReadOnlySpan<float>(table, _codec.QueryTableSize);
                        _codec.PrepareQuery(new ReadOnlySpan<float>(query, _dimension), new Span<float>(table, _codec.QueryTableSize));
                        // The descent compared decoded codes; the beam compares through the table, so the entry's key is
                        // taken through the table too (equal up to rounding, and then every key comes one way).
                        currentKey = _codec.Key(default, tableSpan, new ReadOnlySpan<byte>(RowOf(s, current), _rowBytes));
                        if (_codec is ProductCodec { Quantizer.BitsPerCode: 8 } product)
                            completed = SearchLayer0<ProductTable8Key>(s, table, product.Quantizer.SubQuantizers, null, current, currentKey, width, context, restricted, filter, budget);
                        else
                            completed = SearchLayer0<CodecTableKey>(s, table, _codec.QueryTableSize, _codec, current, currentKey, width, context, restricted, filter, budget);
                        break;
                }
                if (!completed) return false;
                HnswHeap top = context.Top;
                ReadOnlySpan<float> keys = top.Keys;
                ReadOnlySpan<int> slots = top.Slots;
                for (int i = 0; i < keys.Length; i++)
                    heap.Push(rescore ? KeyOf(query, RowOf(s, slots[i])) : keys[i], s.Ids[slots[i]]);
            }
            int found = heap.SortAndPad();
            if (_innerProduct)
                for (int j = 0; j < found; j++) outDistances[j] = -outDistances[j];
            return true;
        }
        finally
        {
            GC.KeepAlive(s);
            HnswSearchContext.Return(context);
        }
    }

    /// <summary>
    /// The fraction of live nodes whose label passes <paramref name="allowed"/>, estimated from up to
    /// <paramref name="samples"/> nodes spread over the slots (all of them in a small graph).
    /// </summary>
    public double EstimateSelectivity(Func<long, bool> allowed, int samples)
    {
        Storage s = Nodes;
        int count = Math.Min(Count, s.Capacity);
        if (count == 0) return 0;
        int tested = 0, passed = 0;
        if (count <= samples)
        {
            for (int slot = 0; slot < count; slot++)
                if (s.Deleted[slot] == 0) (tested, passed) = (tested + 1, passed + (allowed(s.Ids[slot]) ? 1 : 0));
        }
        else
        {
            // Fibonacci hashing spreads the sample over the slots without a random generator per call.
            for (int i = 1; i <= samples; i++)
            {
                int slot = (int)(((unchecked((ulong)i * 0x9E3779B97F4A7C15UL) >> 32) * (ulong)count) >> 32);
                if (s.Deleted[slot] == 0) (tested, passed) = (tested + 1, passed + (allowed(s.Ids[slot]) ? 1 : 0));
            }
        }
        return tested == 0 ? 1 : (double)passed / tested;
    }

    /// <summary>Live slots whose labels pass <paramref name="allowed"/>, in slot order, written to <paramref name="slots"/>; returns how many.</summary>
    public int AllowedSlots(Func<long, bool> allowed, int[] slots)
    {
        Storage s = Nodes;
        int count = Math.Min(Math.Min(Count, s.Capacity), slots.Length), found = 0;
        for (int slot = 0; slot < count; slot++)
            if (s.Deleted[slot] == 0 && allowed(s.Ids[slot])) slots[found++] = slot;
        return found;
    }

    /// <summary>Whether a slot holds a node that has not been removed.</summary>
    public bool IsLive(int slot)
    {
        Storage s = Nodes;
        return (uint)slot < (uint)Math.Min(Count, s.Capacity) && s.Deleted[slot] == 0;
    }

    /// <summary>Whether slot <paramref name="id"/> holds the live node labelled <paramref name="id"/>, as it does for ids the index assigned itself.</summary>
    public bool IsLiveSlotOfLabel(long id)
    {
        Storage s = Nodes;
        return (ulong)id < (ulong)Math.Min(Count, s.Capacity) && s.Ids[id] == id && s.Deleted[id] == 0;
    }

    /// <summary>
    /// The exact k nearest among the given slots (a filtered search's allowed nodes) by the same keys the beam search
    /// compares, four float rows at a time: what the beam would return if it visited exactly these nodes.
    /// </summary>
    public void SearchSlots(float* query, ReadOnlySpan<int> slots, int k, long* outIds, float* outDistances)
    {
        const int Chunk = 256;
        var context = HnswSearchContext.Rent();
        Storage s = Nodes;
        try
        {
            var heap = new TopKHeap(new Span<float>(outDistances, k), new Span<long>(outIds, k));
            float[] keys = context.Keys(Chunk);
            for (int first = 0; first < slots.Length; first += Chunk)
            {
                ReadOnlySpan<int> chunk = slots.Slice(first, Math.Min(Chunk, slots.Length - first));
                KeysOf(s, query, chunk, keys);
                for (int i = 0; i < chunk.Length; i++)
                    if (keys[i] <= heap.Threshold) heap.Push(keys[i], s.Ids[chunk[i]]);
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

    // Smaller is closer: the squared L2 distance, or the negated inner product. Codes are compared through the codec
    // with a float vector (for PQ: the decoded code, which is what its table sums to).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float KeyOf(float* query, byte* row)
    {
        if (_floats)
            return _innerProduct
                ? -Distance.InnerProductUnchecked(ref *query, ref *(float*)row, _dimension)
                : Distance.SquaredL2Unchecked(ref *query, ref *(float*)row, _dimension);
        return _codec.KeyToVector(new ReadOnlySpan<float>(query, _dimension), new ReadOnlySpan<byte>(row, _rowBytes));
    }

    // The keys of stored rows, four rows at a time where the rows are floats (see SearchLayer0).
    private unsafe void KeysOf(Storage s, float* query, ReadOnlySpan<int> slots, Span<float> keys)
    {
        int p = 0, count = slots.Length;
        if (_floats)
        {
            for (; p + 4 <= count; p += 4)
            {
                ref float q = ref *query;
                ref float y0 = ref *(float*)RowOf(s, slots[p]);
                ref float y1 = ref *(float*)RowOf(s, slots[p + 1]);
                ref float y2 = ref *(float*)RowOf(s, slots[p + 2]);
                ref float y3 = ref *(float*)RowOf(s, slots[p + 3]);
                Vector128<float> four = _innerProduct
                    ? -Distance.InnerProductUnchecked4(ref q, ref y0, ref y1, ref y2, ref y3, _dimension)
                    : Distance.SquaredL2Unchecked4(ref q, ref y0, ref y1, ref y2, ref y3, _dimension);
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
        if (_floats) return (float*)RowOf(s, slot);
        float* decoded = context.Decoded(scratch, _dimension);
        _codec.Decode(new ReadOnlySpan<byte>(RowOf(s, slot), _rowBytes), new Span<float>(decoded, _dimension));
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

    // GreedyDescent for a query with the walk's own key (the integer SQ8 key), four neighbours at a time; it moves to
    // the same nodes as one at a time would, since each batch is checked in list order.
    private unsafe int DescendForSearch<TKey>(Storage s, float* query, int length, object? state, int current, int fromLevel, out float currentKey)
        where TKey : struct, IKey
    {
        currentKey = TKey.Of(query, RowOf(s, current), length, state);
        for (int level = fromLevel; level >= 1; level--)
        {
            bool changed = true;
            while (changed)
            {
                changed = false;
                int[] links = s.Upper[current]!;
                int offset = (level - 1) * (_m + 1);
                int count = Math.Min(Volatile.Read(ref links[offset]), _m);
                int j = 1;
                for (; j + 3 <= count; j += 4)
                {
                    Vector128<float> four = TKey.Of4(query, RowOf(s, links[offset + j]), RowOf(s, links[offset + j + 1]),
                        RowOf(s, links[offset + j + 2]), RowOf(s, links[offset + j + 3]), length, state);
                    for (int i = 0; i < 4; i++)
                    {
                        if (four.GetElement(i) < currentKey)
                        {
                            currentKey = four.GetElement(i);
                            current = links[offset + j + i];
                            changed = true;
                        }
                    }
                }
                for (; j <= count; j++)
                {
                    int candidate = links[offset + j];
                    float key = TKey.Of(query, RowOf(s, candidate), length, state);
                    if (key < currentKey)
                    {
                        currentKey = key;
                        current = candidate;
                        changed = true;
                    }
                }
            }
        }
        return current;
    }

    // Beam search on layer 0 for queries, the hot loop: leaves the best `ef` allowed nodes in context.Top.
    // Deleted and filtered nodes are expanded but not kept; while fewer than ef are kept the search goes on,
    // as hnswlib's searchBaseLayerST does with deletions or a filter. Generic over the metric so the distance
    // kernel inlines without a branch per neighbour.
    private unsafe bool SearchLayer0<TKey>(Storage s, float* query, int keyLength, object? state, int entry, float entryKey, int ef, HnswSearchContext context, bool restricted, Func<long, bool>? filter, int budget)
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
        int length = keyLength;
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
                Prefetch.Line(rows + neighbour * rowBytes);
                pendingSlots[fresh++] = neighbour;
            }
            budget -= fresh;
            if (budget < 0) return false;
            int p = 0;
            for (; p + 4 <= fresh; p += 4)
                TKey.Of4(query, rows + pendingSlots[p] * rowBytes, rows + pendingSlots[p + 1] * rowBytes,
                    rows + pendingSlots[p + 2] * rowBytes, rows + pendingSlots[p + 3] * rowBytes, length, state)
                    .StoreUnsafe(ref pendingKeys[p]);
            for (; p < fresh; p++)
                pendingKeys[p] = TKey.Of(query, rows + pendingSlots[p] * rowBytes, length, state);
            for (p = 0; p < fresh; p++)
            {
                float distance = pendingKeys[p];
                if (top.Count < ef || distance < lowerBound)
                {
                    int neighbour = pendingSlots[p];
                    candidates.Push(-distance, neighbour);
                    // The next node to expand is usually decided by now: start loading its link list.
                    Prefetch.Line(links0 + (long)candidates.TopSlot * stride);
                    if (Allowed(neighbour))
                    {
                        top.Push(distance, neighbour);
                        if (top.Count > ef) top.Pop();
                    }
                    if (top.Count > 0) lowerBound = top.TopKey;
                }
            }
        }
        return true;

        bool Allowed(int slot) => deleted[slot] == 0 && (filter is null || filter(ids[slot]));
    }

    // The hot loop's distance, a struct per storage and metric so the JIT specialises SearchLayer0 for each. Static so
    // the float keys compile to the bare kernel call. `query` is the float query, or the ADC table for PQ; `state` is
    // null for floats, the scalar quantizer for SQ and the codec for PQ; `length` is the dimension, or M for PQ.
    private unsafe interface IKey
    {
        static abstract float Of(float* query, byte* row, int length, object? state);

        static abstract Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state);
    }

    private readonly unsafe struct L2Key : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int length, object? state) =>
            Distance.SquaredL2Unchecked(ref *query, ref *(float*)row, length);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state) =>
            Distance.SquaredL2Unchecked4(ref *query, ref *(float*)row0, ref *(float*)row1, ref *(float*)row2, ref *(float*)row3, length);
    }

    private readonly unsafe struct InnerProductKey : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int length, object? state) =>
            -Distance.InnerProductUnchecked(ref *query, ref *(float*)row, length);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state) =>
            -Distance.InnerProductUnchecked4(ref *query, ref *(float*)row0, ref *(float*)row1, ref *(float*)row2, ref *(float*)row3, length);
    }

    private readonly unsafe struct QuantizedL2Key : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int length, object? state)
        {
            ScalarQuantizer quantizer = Unsafe.As<ScalarQuantizer>(state)!;
            return quantizer.SquaredL2Unchecked(new ReadOnlySpan<float>(query, length), new ReadOnlySpan<byte>(row, quantizer.CodeSize));
        }

        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state) =>
            Vector128.Create(Of(query, row0, length, state), Of(query, row1, length, state), Of(query, row2, length, state), Of(query, row3, length, state));
    }

    // SQ8 codes against the query's SQ8 code in integers; `query` points at the 16-bit query code.
    private readonly unsafe struct Sq8IntegerL2Key : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int length, object? state) => Unsafe.As<Sq8IntegerL2>(state)!.Of((short*)query, row);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state) =>
            Unsafe.As<Sq8IntegerL2>(state)!.Of4((short*)query, row0, row1, row2, row3);
    }

    private readonly unsafe struct QuantizedInnerProductKey : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int length, object? state)
        {
            ScalarQuantizer quantizer = Unsafe.As<ScalarQuantizer>(state)!;
            return -quantizer.InnerProductUnchecked(new ReadOnlySpan<float>(query, length), new ReadOnlySpan<byte>(row, quantizer.CodeSize));
        }

        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state) =>
            Vector128.Create(Of(query, row0, length, state), Of(query, row1, length, state), Of(query, row2, length, state), Of(query, row3, length, state));
    }

    // 8-bit PQ codes against the query's ADC table (rows of 256 keys, already negated for similarities).
    private readonly unsafe struct ProductTable8Key : IKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float* query, byte* row, int length, object? state) => ProductCodec.TableSum8(ref *query, ref *row, length);

        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state) =>
            Vector128.Create(Of(query, row0, length, state), Of(query, row1, length, state), Of(query, row2, length, state), Of(query, row3, length, state));
    }

    // Any other code through its codec's table lookup (PQ with fewer than 8 bits per sub-code).
    private readonly unsafe struct CodecTableKey : IKey
    {
        public static float Of(float* query, byte* row, int length, object? state)
        {
            VectorCodec codec = Unsafe.As<VectorCodec>(state)!;
            return codec.Key(default, new ReadOnlySpan<float>(query, length), new ReadOnlySpan<byte>(row, codec.CodeSize));
        }

        public static Vector128<float> Of4(float* query, byte* row0, byte* row1, byte* row2, byte* row3, int length, object? state) =>
            Vector128.Create(Of(query, row0, length, state), Of(query, row1, length, state), Of(query, row2, length, state), Of(query, row3, length, state));
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
                Prefetch.Line(RowOf(s, neighbour));
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
        ? s.LinkSpan((long)slot * (_m0 + 1), _m0 + 1)
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
        if (_floats)
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

    // Link targets must be real nodes that exist on the layer, or the descent would read links a node lacks.
    internal static void CheckLinks(IndexPayloadReader reader, ReadOnlySpan<int> list, int capacity, int node, int level, int count, byte[] levels)
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
    // can use raw pointers without pinning per query. A mapped graph's rows and layer-0 links are pointers into the file
    // (Rows and Links0 are then empty); its RowSpan and LinkSpan must only be read.
    internal sealed unsafe class Storage
    {
        public Storage(int count, byte* rows, int* links0, int[]?[] upper, long[] ids, byte[] levels, byte[] deleted)
        {
            Capacity = count;
            Rows = [];
            Links0 = [];
            Upper = upper;
            Ids = ids;
            Levels = levels;
            Deleted = deleted;
            RowBase = rows;
            LinkBase = links0;
            IsMapped = true;
        }

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
        public readonly bool IsMapped;

        /// <summary>Row bytes from <paramref name="start"/> (bytes from the first row's start).</summary>
        public Span<byte> RowSpan(long start, int length) =>
            IsMapped ? new Span<byte>(RowBase + start, length) : Rows.AsSpan(checked((int)(RowOffset + start)), length);

        /// <summary>Layer-0 link ints from <paramref name="start"/>.</summary>
        public Span<int> LinkSpan(long start, int length) =>
            IsMapped ? new Span<int>(LinkBase + start, length) : Links0.AsSpan(checked((int)start), length);
    }
}
