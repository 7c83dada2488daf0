using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Trees;

/// <summary>
/// A balanced k-d tree over raw vectors (as FLANN's single k-d tree): every node splits its points at the median
/// of the dimension where they spread most, down to leaves of at most <see cref="TreeIndex.LeafSize"/> points. Building
/// reorders the stored vectors so each leaf is one contiguous block. Searching is best-first branch and bound:
/// subtrees are visited in order of the squared distance from the query to their cell (kept incrementally, as
/// Arya and Mount do), and the search stops when that lower bound exceeds the k-th best distance, which makes
/// it exact. A leaf budget (<see cref="MaxLeaves"/>) turns it into
/// an approximate search that stops after that many leaves.
/// </summary>
/// <remarks>
/// <para>Only <see cref="Metric.L2"/> is supported: the hyperplane bound is a Euclidean bound. KD-trees shine in
/// low dimensions (up to about 16); beyond about 20–30 dimensions the exact search visits most leaves and is slower
/// than <see cref="FlatIndex"/>, and a leaf budget loses recall quickly.</para>
/// <para>Vectors added after a build go to an unindexed tail that every search scans exhaustively; the tree is
/// rebuilt during <see cref="IVectorIndex.Add(ReadOnlySpan{float}, ReadOnlySpan{long}, IndexBuildOptions?)"/> once the tail outgrows
/// max(2 × <see cref="TreeIndex.LeafSize"/>, indexed / 32) vectors, so rebuilds cost O(log n) per added vector amortised.
/// <see cref="Build"/> indexes everything at once. A removal moves the last vector into the hole and rebuilds the
/// tree (O(n log n)), so remove in batches.</para>
/// <para>Equal distances are ordered by ascending id. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other; adds, removes
/// and <see cref="Build"/> must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).</para>
/// </remarks>
public sealed class KdTreeIndex : TreeIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = IndexKinds.KdTree;

    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = c => c.Token == KindName ? c.Build(() => new KdTreeIndex(c.Dimension, c.FloatMetric)) : null,
        FactorySyntax = KindName,
    };

    /// <summary>The leaf size used when none is given.</summary>
    public const int DefaultLeafSize = 24;

    private const int MaxLeafSize = 1 << 16;
    private const int NodeBytes = sizeof(int) * 3 + sizeof(float);

    private int _maxLeaves;

    // Node i is a leaf when _splitDimension[i] < 0; then rows _first[i] ≤ r < _second[i] are its points.
    // Otherwise _first[i] and _second[i] are its children: points with x[dim] ≤ split go left, ≥ split go right.
    private int[] _splitDimension = [];
    private float[] _splitValue = [];
    private int[] _first = [];
    private int[] _second = [];

    [ThreadStatic] private static SearchScratch? t_scratch;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="metric">Must be <see cref="Metric.L2"/>.</param>
    /// <param name="leafSize">The most points a leaf holds (unless they are all equal); 1 to 65536.</param>
    /// <exception cref="ArgumentException">The metric is not L2.</exception>
    public KdTreeIndex(int dimension, Metric metric = Metric.L2, int leafSize = DefaultLeafSize) : base(dimension, metric, leafSize)
    {
        if (metric != Metric.L2)
            throw new ArgumentException($"A KD-tree supports only the L2 metric (its pruning bound is Euclidean); got {metric}. Use RPForest or HNSW for inner product or cosine.", nameof(metric));
        ArgumentOutOfRangeException.ThrowIfLessThan(leafSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(leafSize, MaxLeafSize);
    }

    /// <summary>
    /// The default leaf budget per query: 0 (the default) searches exactly; n stops after n leaves. Also set by
    /// <c>SetSearchParameter("max_leaves", n)</c>.
    /// </summary>
    public int MaxLeaves
    {
        get => _maxLeaves;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MaxLeaves));
            _maxLeaves = value;
        }
    }

    /// <summary>Nodes in the tree (leaves included).</summary>
    public int NodeCount => _splitDimension.Length;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override long MemoryUsageBytes =>
        StorageBytes + (long)NodeCount * NodeBytes;

    /// <inheritdoc />
    public override void SetSearchParameter(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name != "max_leaves")
            throw new ArgumentException($"The {Kind} index has no search parameter \"{name}\"; it has \"max_leaves\".", nameof(name));
        if (!(value >= 0 && value <= int.MaxValue) || value != Math.Floor(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "max_leaves must be a whole number, 0 (exact) or more.");
        _maxLeaves = (int)value;
    }

    /// <summary>Rebuilds the tree over every stored vector, emptying the unindexed tail.</summary>
    public override void Build()
    {
        int n = _rows.Count;
        int d = Dimension;
        var permutation = new int[n];
        for (int i = 0; i < n; i++) permutation[i] = i;
        var builder = new TreeBuilder(_vectors, d, LeafSize, permutation);
        if (n > 0) builder.BuildNode(0, n);

        // Reorder the vectors so each leaf scans one contiguous block.
        var vectors = new float[Math.Max(_vectors.Length, n * d)];
        var rows = new RowIds();
        rows.Resize(_rows.Capacity);
        for (int i = 0; i < n; i++)
        {
            _vectors.AsSpan(permutation[i] * d, d).CopyTo(vectors.AsSpan(i * d, d));
            rows.Append(_rows.Ids[permutation[i]]);
        }
        _vectors = vectors;
        _rows = rows;
        _splitDimension = [.. builder.SplitDimension];
        _splitValue = [.. builder.SplitValue];
        _first = [.. builder.First];
        _second = [.. builder.Second];
        _indexedRows = n;
    }

    private protected override int ResolveBudget(SearchOptions options, int k)
    {
        if (options is not KdTreeSearchOptions { MaxLeaves: int perCall }) return _maxLeaves;
        if (perCall < 0)
            throw new ArgumentOutOfRangeException(nameof(options), perCall, "KdTreeSearchOptions.MaxLeaves must be 0 (exact) or positive.");
        return perCall;
    }

    /// <inheritdoc />
    protected override RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options)
    {
        return RangeHits.Search(queries.ToArray(), rows, Dimension, radius, similarity: false, options, (query, _, hits) =>
        {
            ScanRange(query, _indexedRows, _rows.Count, hits);
            if (_indexedRows > 0)
            {
                var stack = new Stack<(int Node, float Bound)>();
                stack.Push((0, 0f));
                while (stack.TryPop(out var entry))
                {
                    int node = entry.Node;
                    int dim = _splitDimension[node];
                    if (dim < 0)
                    {
                        ScanRange(query, _first[node], _second[node], hits);
                        continue;
                    }
                    float diff = query[dim] - _splitValue[node];
                    float farBound = Math.Max(entry.Bound, diff * diff);
                    (int near, int far) = diff < 0 ? (_first[node], _second[node]) : (_second[node], _first[node]);
                    if (hits.Inside(farBound)) stack.Push((far, farBound));
                    stack.Push((near, entry.Bound));
                }
            }
        });
    }

    /// <inheritdoc />
    protected override void WritePayload(IndexPayloadWriter writer)
    {
        writer.WriteInt32(Dimension);
        writer.WriteInt32((int)Metric);
        writer.WriteInt32(LeafSize);
        writer.WriteInt32(_maxLeaves);
        writer.WriteInt64(_rows.Count);
        writer.WriteInt64(_indexedRows);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        writer.WriteSpan<float>(_vectors.AsSpan(0, _rows.Count * Dimension));
        writer.WriteInt64(NodeCount);
        writer.WriteSpan<int>(_splitDimension);
        writer.WriteSpan<float>(_splitValue);
        writer.WriteSpan<int>(_first);
        writer.WriteSpan<int>(_second);
    }

    internal static KdTreeIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        reader.ReadInt32("metric", (int)Metric.L2, (int)Metric.L2);
        int leafSize = reader.ReadInt32("leaf size", 1, MaxLeafSize);
        int maxLeaves = reader.ReadInt32("max leaves", 0, int.MaxValue);
        long count = reader.ReadInt64("count", 0, Array.MaxLength / dimension);
        long indexed = reader.ReadInt64("indexed count", 0, count);
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        float[] vectors = reader.ReadArray<float>(count * dimension, "vectors");
        long nodeCount = reader.ReadInt64("node count", 0, Array.MaxLength);
        int[] splitDimension = reader.ReadArray<int>(nodeCount, "split dimensions");
        float[] splitValue = reader.ReadArray<float>(nodeCount, "split values");
        int[] first = reader.ReadArray<int>(nodeCount, "first children or rows");
        int[] second = reader.ReadArray<int>(nodeCount, "second children or rows");

        foreach (long id in ids)
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} is negative or not below the next id {nextId}");
        foreach (float v in vectors)
            if (!float.IsFinite(v)) throw reader.Corrupt("a stored vector holds a non-finite value");
        CheckTree(reader, (int)indexed, dimension, splitDimension, splitValue, first, second);

        var index = new KdTreeIndex(dimension, Metric.L2, leafSize) { _maxLeaves = maxLeaves };
        index.LoadRows(reader, ids, vectors, (int)indexed);
        index._splitDimension = splitDimension;
        index._splitValue = splitValue;
        index._first = first;
        index._second = second;
        index.NextId = nextId;
        return index;
    }

    // A corrupt tree must not crash or hang a search: every node but the root has exactly one parent that comes
    // before it (so walks end), and the leaves tile the indexed rows in order.
    private static void CheckTree(IndexPayloadReader reader, int indexed, int dimension, int[] splitDimension, float[] splitValue, int[] first, int[] second)
    {
        int nodes = splitDimension.Length;
        if ((indexed == 0) != (nodes == 0))
            throw reader.Corrupt($"{indexed} indexed vectors but {nodes} tree nodes");
        var parents = new int[nodes];
        int nextRow = 0;
        for (int node = 0; node < nodes; node++)
        {
            int dim = splitDimension[node];
            if (dim >= dimension || dim < -1)
                throw reader.Corrupt($"node {node} splits on dimension {dim}, outside −1..{dimension - 1}");
            if (dim < 0)
            {
                // Pre-order layout: leaves appear left to right, so their row ranges follow one another.
                if (first[node] != nextRow || second[node] <= first[node] || second[node] > indexed)
                    throw reader.Corrupt($"leaf {node} covers rows {first[node]}..{second[node]}, which do not continue the leaves before it");
                nextRow = second[node];
                continue;
            }
            if (!float.IsFinite(splitValue[node]))
                throw reader.Corrupt($"node {node} has a non-finite split value");
            foreach (int child in (ReadOnlySpan<int>)[first[node], second[node]])
            {
                if (child <= node || child >= nodes || parents[child]++ != 0)
                    throw reader.Corrupt($"node {node} has child {child}, which is out of order, out of range or shared");
            }
        }
        for (int node = 1; node < nodes; node++)
            if (parents[node] != 1) throw reader.Corrupt($"node {node} has no parent");
        if (nextRow != indexed)
            throw reader.Corrupt($"the leaves cover {nextRow} rows but {indexed} are indexed");
    }

    private protected override void SearchOne(ReadOnlySpan<float> query, Span<long> ids, Span<float> distances, int maxLeaves, Func<long, bool>? filter)
    {
        var heap = new TopKHeap(distances, ids);
        // The tail first: its candidates tighten the bound before the tree is walked.
        ScanLeaf(query, _indexedRows, _rows.Count, filter, ref heap);
        if (_indexedRows > 0)
        {
            SearchScratch scratch = t_scratch ??= new SearchScratch();
            scratch.Reset(Dimension);
            PriorityQueue<(int Node, int Link), float> queue = scratch.Queue;
            queue.Enqueue((0, -1), 0f);
            int leaves = 0;
            while (queue.TryDequeue(out var entry, out float bound))
            {
                // Queue keys are lower bounds on every distance in their subtree; a bound equal to the threshold
                // may still hold a point that wins its tie by a smaller id.
                if (bound > heap.Threshold) break;
                scratch.Load(entry.Link);
                int node = entry.Node;
                int dim;
                while ((dim = _splitDimension[node]) >= 0)
                {
                    float diff = query[dim] - _splitValue[node];
                    // The far cell differs from this one along `dim` only, where the query is now diff away
                    // (Arya and Mount's incremental distance): swap that one term of the squared distance.
                    float offset = diff * diff;
                    float farBound = bound - scratch.OffsetOf(dim) + offset;
                    (int near, int far) = diff < 0 ? (_first[node], _second[node]) : (_second[node], _first[node]);
                    if (farBound <= heap.Threshold) queue.Enqueue((far, scratch.AddLink(entry.Link, dim, offset)), farBound);
                    node = near;
                }
                ScanLeaf(query, _first[node], _second[node], filter, ref heap);
                if (++leaves == maxLeaves) break;
            }
            queue.Clear();
        }
        heap.SortAndPad();
    }

    private void ScanLeaf(ReadOnlySpan<float> query, int start, int end, Func<long, bool>? filter, ref TopKHeap heap)
    {
        int d = Dimension;
        ReadOnlySpan<float> block = _vectors.AsSpan(start * d, (end - start) * d);
        long[] rowIds = _rows.Ids;
        for (int r = 0; r < end - start; r++)
        {
            float distance = Distance.SquaredL2(query, block.Slice(r * d, d));
            if (distance > heap.Threshold) continue;
            long id = rowIds[start + r];
            if (filter is null || filter(id)) heap.Push(distance, id);
        }
    }

    private void ScanRange(ReadOnlySpan<float> query, int start, int end, RangeHits hits)
    {
        int d = Dimension;
        for (int r = start; r < end; r++) hits.Offer(Distance.SquaredL2(query, _vectors.AsSpan(r * d, d)), _rows.Ids[r]);
    }

    // Per-thread search state reused across queries. A queued subtree's cell differs from its parent's along one
    // dimension, so each queue entry records just that (dimension, squared offset) as a link to its parent's
    // links; Load replays a chain (at most the tree depth) to recover the squared offsets of the entry's cell.
    private sealed class SearchScratch
    {
        private int[] _linkParent = new int[256];
        private int[] _linkDimension = new int[256];
        private float[] _linkOffset = new float[256];
        private int _linkCount;
        private float[] _offsets = [];
        private int[] _stamps = [];
        private int _stamp;

        public PriorityQueue<(int Node, int Link), float> Queue { get; } = new();

        public void Reset(int dimension)
        {
            Queue.Clear();
            _linkCount = 0;
            if (_offsets.Length != dimension)
            {
                _offsets = new float[dimension];
                _stamps = new int[dimension];
                _stamp = 0;
            }
        }

        public int AddLink(int parent, int dimension, float offset)
        {
            if (_linkCount == _linkParent.Length)
            {
                Array.Resize(ref _linkParent, _linkCount * 2);
                Array.Resize(ref _linkDimension, _linkCount * 2);
                Array.Resize(ref _linkOffset, _linkCount * 2);
            }
            _linkParent[_linkCount] = parent;
            _linkDimension[_linkCount] = dimension;
            _linkOffset[_linkCount] = offset;
            return _linkCount++;
        }

        public void Load(int link)
        {
            if (++_stamp == int.MaxValue)
            {
                Array.Clear(_stamps);
                _stamp = 1;
            }
            // The deepest link of a dimension is the current one, and it is met first.
            for (; link >= 0; link = _linkParent[link])
            {
                int dimension = _linkDimension[link];
                if (_stamps[dimension] == _stamp) continue;
                _stamps[dimension] = _stamp;
                _offsets[dimension] = _linkOffset[link];
            }
        }

        public float OffsetOf(int dimension) => _stamps[dimension] == _stamp ? _offsets[dimension] : 0f;
    }

    // Builds nodes in pre-order over a permutation of the rows, so leaves come out left to right.
    private sealed class TreeBuilder(float[] vectors, int dimension, int leafSize, int[] permutation)
    {
        public List<int> SplitDimension { get; } = [];
        public List<float> SplitValue { get; } = [];
        public List<int> First { get; } = [];
        public List<int> Second { get; } = [];

        private readonly float[] _min = new float[dimension];
        private readonly float[] _max = new float[dimension];

        public int BuildNode(int start, int end)
        {
            int node = SplitDimension.Count;
            SplitDimension.Add(-1);
            SplitValue.Add(0f);
            First.Add(start);
            Second.Add(end);
            if (end - start <= leafSize) return node;

            int dim = WidestDimension(start, end);
            if (dim < 0) return node; // all points equal: no split separates them

            int middle = start + (end - start) / 2;
            float split = Select(start, end, middle, dim);
            SplitDimension[node] = dim;
            SplitValue[node] = split;
            int left = BuildNode(start, middle);
            int right = BuildNode(middle, end);
            First[node] = left;
            Second[node] = right;
            return node;
        }

        private int WidestDimension(int start, int end)
        {
            vectors.AsSpan(permutation[start] * dimension, dimension).CopyTo(_min);
            _min.CopyTo(_max, 0);
            for (int i = start + 1; i < end; i++)
            {
                ReadOnlySpan<float> row = vectors.AsSpan(permutation[i] * dimension, dimension);
                System.Numerics.Tensors.TensorPrimitives.Min(row, _min, _min);
                System.Numerics.Tensors.TensorPrimitives.Max(row, _max, _max);
            }
            int best = -1;
            float widest = 0f;
            for (int j = 0; j < dimension; j++)
            {
                float spread = _max[j] - _min[j];
                if (spread > widest)
                {
                    widest = spread;
                    best = j;
                }
            }
            return best;
        }

        private float Value(int position, int dim) => vectors[permutation[position] * dimension + dim];

        // Quickselect with a three-way partition (many equal values stay fast): afterwards values before
        // `target` are ≤ the returned value and values from `target` on are ≥ it.
        private float Select(int start, int end, int target, int dim)
        {
            int lo = start, hi = end; // the target lies in [lo, hi)
            while (true)
            {
                if (hi - lo <= 1) return Value(target, dim);
                float a = Value(lo, dim), b = Value(lo + (hi - lo) / 2, dim), c = Value(hi - 1, dim);
                float pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
                int lt = lo, i = lo, gt = hi;
                while (i < gt)
                {
                    float v = Value(i, dim);
                    if (v < pivot) Swap(lt++, i++);
                    else if (v > pivot) Swap(i, --gt);
                    else i++;
                }
                if (target < lt) hi = lt;
                else if (target >= gt) lo = gt;
                else return pivot;
            }
        }

        private void Swap(int i, int j) => (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
    }
}
