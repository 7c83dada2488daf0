using System.Numerics.Tensors;
using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Trees;

/// <summary>
/// A forest of random-projection trees, as Spotify's Annoy: each tree splits its points by the hyperplane
/// equidistant from two centres found by a short two-means run, down to leaves of at most <see cref="TreeIndex.LeafSize"/>
/// points. A search walks all trees at once with one priority queue ordered by the smallest margin to any
/// hyperplane on the path, collects <c>search_k</c> distinct candidates from the leaves it reaches, and re-ranks
/// them with exact distances to the stored vectors.
/// </summary>
/// <remarks>
/// <para>Metrics: <see cref="Metric.L2"/> uses Euclidean hyperplanes; <see cref="Metric.Cosine"/> stores unit
/// vectors and uses hyperplanes through the origin; <see cref="Metric.InnerProduct"/> builds the trees on vectors
/// given one extra component √(max‖x‖² − ‖x‖²) (Annoy's dot-product trick, which turns maximum inner product into
/// an angular search), with queries extended by zero. Re-ranking always uses the exact metric.</para>
/// <para>Trees are built in parallel (<see cref="BuildThreads"/>), each from its own seed derived from
/// <see cref="Seed"/>, so the forest is the same whatever the thread count. Vectors added after a build go to an
/// unindexed tail that every search scans exactly; the forest is rebuilt during an add once the tail outgrows
/// max(2 × <see cref="TreeIndex.LeafSize"/>, indexed / 32). <see cref="Build"/> indexes everything at once. A removal moves
/// the last vector into the hole and rebuilds the forest, so remove in batches. <see cref="IVectorIndex.RangeSearch"/>
/// scans every vector exactly.</para>
/// <para>Equal distances are ordered by ascending id. Thread safety: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves
/// may run concurrently with each other; adds,
/// removes and <see cref="Build"/> must not overlap anything else
/// (saves included; the table is in docs/indexes.md, and a stress test per kind holds it).</para>
/// </remarks>
public sealed class RandomProjectionForestIndex : TreeIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = IndexKinds.RandomProjectionForest;

    // RPForest<trees>[_<leaf size>], the underscore parameter as in OPQ16_64.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = ParseToken,
        FactorySyntax = "RPForest<trees>[_<leaf>]",
    };

    /// <summary>The seed used when none is given.</summary>
    public const int DefaultSeed = 1234;

    private const int MaxTrees = 1024;
    private const int MaxLeafSize = 1 << 16;

    private int _searchK;
    private int _buildThreads;

    // Node references: r ≥ 0 is internal node r, r < 0 is leaf ~r. Leaf l holds rows _leafRows[_leafStarts[l].._leafStarts[l + 1]].
    private int[] _roots = [];
    private float[] _normals = [];
    private float[] _offsets = [];
    private int[] _children = [];
    private int[] _leafStarts = [0];
    private int[] _leafRows = [];

    [ThreadStatic] private static SearchScratch? t_scratch;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="trees">Trees in the forest, 1 to 1024; more trees cost memory and build time and raise recall.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="leafSize">The most points per leaf, 1 to 65536; 0 picks Annoy's choice, dimension + 2, clamped to 16..128.</param>
    /// <param name="seed">Seed of the trees' random choices.</param>
    public RandomProjectionForestIndex(int dimension, int trees, Metric metric = Metric.L2, int leafSize = 0, int seed = DefaultSeed)
        : base(dimension, metric, CheckLeafSize(leafSize, dimension))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trees, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(trees, MaxTrees);
        TreeCount = trees;
        Seed = seed;
    }

    private static int CheckLeafSize(int leafSize, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leafSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(leafSize, MaxLeafSize);
        return leafSize == 0 ? Math.Clamp(dimension + 2, 16, 128) : leafSize;
    }

    /// <summary>Trees in the forest.</summary>
    public int TreeCount { get; }

    /// <summary>Seed of the trees' random choices; tree t uses a seed derived from this and t.</summary>
    public int Seed { get; }

    /// <summary>
    /// Distinct candidates a query collects before exact re-ranking; 0 (the default) means trees × k, Annoy's
    /// default. Also set by <c>SetSearchParameter("search_k", n)</c>.
    /// </summary>
    public int SearchK
    {
        get => _searchK;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(SearchK));
            _searchK = value;
        }
    }

    /// <summary>Threads that build trees; 0 (the default) means <see cref="Environment.ProcessorCount"/>. The result does not depend on it.</summary>
    public int BuildThreads
    {
        get => _buildThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(BuildThreads));
            _buildThreads = value;
        }
    }

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override long MemoryUsageBytes =>
        StorageBytes + ((long)_normals.Length + _offsets.Length) * sizeof(float)
        + ((long)_children.Length + _leafStarts.Length + _leafRows.Length + _roots.Length) * sizeof(int);

    private static IIndex? ParseToken(IndexFactoryCursor cursor)
    {
        if (!IndexFactoryCursor.TryMatch(cursor.Token, "RPForest", out string rest)) return null;
        string[] parts = rest.Split('_');
        int leafSize = 0;
        if (parts.Length > 2 || !IndexFactoryCursor.TryParseCount(parts[0], out int trees) || (parts.Length == 2 && !IndexFactoryCursor.TryParseCount(parts[1], out leafSize)))
            throw cursor.Error("needs its tree count and optionally a leaf size, e.g. RPForest10 or RPForest10_64");
        return cursor.Build(() => new RandomProjectionForestIndex(cursor.Dimension, trees, cursor.FloatMetric, leafSize));
    }

    /// <inheritdoc />
    public override void SetSearchParameter(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name != "search_k")
            throw new ArgumentException($"The {Kind} index has no search parameter \"{name}\"; it has \"search_k\".", nameof(name));
        if (!(value >= 0 && value <= int.MaxValue) || value != Math.Floor(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "search_k must be a whole number, 0 (trees × k) or more.");
        _searchK = (int)value;
    }

    /// <summary>Rebuilds every tree over every stored vector, emptying the unindexed tail.</summary>
    /// <exception cref="InvalidOperationException">trees × count exceeds the largest array.</exception>
    public override void Build()
    {
        int n = _rows.Count;
        int d = Dimension;
        if ((long)n * TreeCount > Array.MaxLength)
            throw new InvalidOperationException($"{TreeCount} trees over {n} vectors exceed the largest leaf array; use fewer trees.");
        if (n == 0)
        {
            (_roots, _normals, _offsets, _children, _leafStarts, _leafRows, _indexedRows) = ([], [], [], [], [0], [], 0);
            return;
        }

        (float[] data, int width) = Metric == Metric.InnerProduct ? AugmentForInnerProduct(n) : (_vectors, d);
        bool angular = Metric != Metric.L2;
        var builders = new RandomProjectionTreeBuilder[TreeCount];
        var roots = new int[TreeCount];
        int threads = BuildThreads == 0 ? Environment.ProcessorCount : BuildThreads;
        Parallel.For(0, TreeCount, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var builder = new RandomProjectionTreeBuilder(data, width, d, n, LeafSize, angular, TreeSeed(t));
            roots[t] = builder.Build();
            builders[t] = builder;
        });

        // Concatenate the trees, shifting each tree's node and leaf numbers past those of the trees before it.
        int internalCount = builders.Sum(b => b.Offsets.Count);
        int leafCount = builders.Sum(b => b.LeafStarts.Count);
        var normals = new float[(long)internalCount * d];
        var offsets = new float[internalCount];
        var children = new int[2 * internalCount];
        var leafStarts = new int[leafCount + 1];
        var leafRows = new int[n * TreeCount];
        int nodeBase = 0, leafBase = 0;
        for (int t = 0; t < TreeCount; t++)
        {
            RandomProjectionTreeBuilder b = builders[t];
            int Shift(int reference) => reference >= 0 ? reference + nodeBase : ~(~reference + leafBase);
            roots[t] = Shift(roots[t]);
            b.Normals.CopyTo(normals, nodeBase * d);
            b.Offsets.CopyTo(offsets, nodeBase);
            for (int i = 0; i < b.Children.Count; i++) children[2 * nodeBase + i] = Shift(b.Children[i]);
            for (int i = 0; i < b.LeafStarts.Count; i++) leafStarts[leafBase + i] = b.LeafStarts[i] + t * n;
            b.Rows.CopyTo(leafRows, t * n);
            nodeBase += b.Offsets.Count;
            leafBase += b.LeafStarts.Count;
        }
        leafStarts[leafCount] = n * TreeCount;
        (_roots, _normals, _offsets, _children, _leafStarts, _leafRows, _indexedRows) = (roots, normals, offsets, children, leafStarts, leafRows, n);
    }

    private protected override int ResolveBudget(SearchOptions options, int k)
    {
        int searchK = _searchK;
        if (options is RandomProjectionForestSearchOptions { SearchK: int perCall })
        {
            if (perCall < 0)
                throw new ArgumentOutOfRangeException(nameof(options), perCall, "RandomProjectionForestSearchOptions.SearchK must be 0 (trees × k) or positive.");
            searchK = perCall;
        }
        return searchK == 0 ? (int)Math.Min(int.MaxValue, (long)TreeCount * k) : searchK;
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
        writer.WriteInt32(TreeCount);
        writer.WriteInt32(LeafSize);
        writer.WriteInt32(Seed);
        writer.WriteInt32(_searchK);
        writer.WriteInt64(_rows.Count);
        writer.WriteInt64(_indexedRows);
        writer.WriteInt64(NextId);
        writer.WriteSpan<long>(_rows.Ids.AsSpan(0, _rows.Count));
        writer.WriteSpan<float>(_vectors.AsSpan(0, _rows.Count * Dimension));
        writer.WriteInt64(_offsets.Length);
        writer.WriteSpan<float>(_normals);
        writer.WriteSpan<float>(_offsets);
        writer.WriteSpan<int>(_children);
        writer.WriteInt64(_roots.Length);
        writer.WriteSpan<int>(_roots);
        writer.WriteInt64(_leafStarts.Length - 1);
        writer.WriteSpan<int>(_leafStarts);
        writer.WriteSpan<int>(_leafRows);
    }

    internal static RandomProjectionForestIndex ReadPayload(IndexPayloadReader reader)
    {
        int dimension = reader.ReadInt32("dimension", 1, 1 << 20);
        var metric = (Metric)reader.ReadInt32("metric", 0, (int)Metric.Cosine);
        int trees = reader.ReadInt32("tree count", 1, MaxTrees);
        int leafSize = reader.ReadInt32("leaf size", 1, MaxLeafSize);
        int seed = reader.ReadInt32();
        int searchK = reader.ReadInt32("search_k", 0, int.MaxValue);
        long count = reader.ReadInt64("count", 0, Array.MaxLength / dimension);
        long indexed = reader.ReadInt64("indexed count", 0, Math.Min(count, Array.MaxLength / trees));
        long nextId = reader.ReadInt64("next id", 0, long.MaxValue);
        long[] ids = reader.ReadArray<long>(count, "ids");
        float[] vectors = reader.ReadArray<float>(count * dimension, "vectors");
        long internalCount = reader.ReadInt64("internal node count", 0, Array.MaxLength / dimension);
        float[] normals = reader.ReadArray<float>(internalCount * dimension, "normals");
        float[] offsets = reader.ReadArray<float>(internalCount, "offsets");
        int[] children = reader.ReadArray<int>(2 * internalCount, "children");
        long rootCount = reader.ReadInt64("root count", indexed == 0 ? 0 : trees, indexed == 0 ? 0 : trees);
        int[] roots = reader.ReadArray<int>(rootCount, "roots");
        long leafCount = reader.ReadInt64("leaf count", 0, Array.MaxLength - 1);
        int[] leafStarts = reader.ReadArray<int>(leafCount + 1, "leaf starts");
        int[] leafRows = reader.ReadArray<int>(indexed * trees, "leaf rows");

        foreach (long id in ids)
            if (id < 0 || id >= nextId) throw reader.Corrupt($"id {id} is negative or not below the next id {nextId}");
        if (!FiniteValues.All(vectors) || !FiniteValues.All(normals) || !FiniteValues.All(offsets))
            throw reader.Corrupt("a vector or hyperplane holds a non-finite value");
        CheckForest(reader, (int)indexed, children, roots, leafStarts, leafRows);

        var index = new RandomProjectionForestIndex(dimension, trees, metric, leafSize, seed) { _searchK = searchK };
        index.LoadRows(reader, ids, vectors, (int)indexed);
        (index._roots, index._normals, index._offsets, index._children, index._leafStarts, index._leafRows) =
            (roots, normals, offsets, children, leafStarts, leafRows);
        index.NextId = nextId;
        return index;
    }

    // A corrupt forest must not crash or hang a search: every node and leaf has exactly one parent (a root slot or
    // an earlier internal node), and leaves name indexed rows.
    private static void CheckForest(IndexPayloadReader reader, int indexed, int[] children, int[] roots, int[] leafStarts, int[] leafRows)
    {
        int internalCount = children.Length / 2;
        int leafCount = leafStarts.Length - 1;
        var nodeParents = new int[internalCount];
        var leafParents = new int[leafCount];
        void Claim(int reference, int parent)
        {
            bool ok = reference >= 0
                ? reference > parent && reference < internalCount && nodeParents[reference]++ == 0
                : ~reference < leafCount && leafParents[~reference]++ == 0;
            if (!ok) throw reader.Corrupt($"node reference {reference} is out of range, out of order or shared");
        }
        foreach (int root in roots) Claim(root, -1);
        for (int node = 0; node < internalCount; node++)
        {
            Claim(children[2 * node], node);
            Claim(children[2 * node + 1], node);
        }
        if (nodeParents.Contains(0) || leafParents.Contains(0))
            throw reader.Corrupt("a tree node or leaf is unreachable");
        if (leafStarts[0] != 0 || leafStarts[leafCount] != leafRows.Length)
            throw reader.Corrupt("the leaves do not cover the leaf rows");
        for (int leaf = 0; leaf < leafCount; leaf++)
            if (leafStarts[leaf + 1] < leafStarts[leaf]) throw reader.Corrupt($"leaf {leaf} ends before it starts");
        foreach (int row in leafRows)
            if ((uint)row >= (uint)indexed) throw reader.Corrupt($"a leaf names row {row}, outside the {indexed} indexed rows");
    }

    private protected override void SearchOne(ReadOnlySpan<float> query, Span<long> ids, Span<float> distances, int searchK, Func<long, bool>? filter)
    {
        bool similarity = Metric.IsSimilarity();
        var heap = new TopKHeap(distances, ids);
        for (int r = _indexedRows; r < _rows.Count; r++)
            Offer(query, r, filter, ref heap);

        if (_indexedRows > 0)
        {
            SearchScratch scratch = t_scratch ??= new SearchScratch();
            int stamp = scratch.NextStamp(_indexedRows);
            int[] seen = scratch.Seen;
            PriorityQueue<int, float> queue = scratch.Queue;
            queue.Clear();
            // Keys are negated priorities (the queue pops the smallest): a node's priority is the smallest signed
            // margin on its path, so the leaves nearest the query's side of every plane come first.
            foreach (int root in _roots) queue.Enqueue(root, float.NegativeInfinity);
            int candidates = 0;
            int d = Dimension;
            while (candidates < searchK && queue.TryDequeue(out int node, out float key))
            {
                if (node >= 0)
                {
                    float margin = Distance.InnerProduct(_normals.AsSpan(node * d, d), query) + _offsets[node];
                    queue.Enqueue(_children[2 * node + 1], Math.Max(key, -margin));
                    queue.Enqueue(_children[2 * node], Math.Max(key, margin));
                    continue;
                }
                int leaf = ~node;
                for (int i = _leafStarts[leaf]; i < _leafStarts[leaf + 1]; i++)
                {
                    int row = _leafRows[i];
                    if (seen[row] == stamp) continue;
                    seen[row] = stamp;
                    candidates++;
                    Offer(query, row, filter, ref heap);
                }
            }
            queue.Clear();
        }

        int found = heap.SortAndPad();
        if (similarity)
            for (int j = 0; j < found; j++) distances[j] = -distances[j];
    }

    private void Offer(ReadOnlySpan<float> query, int row, Func<long, bool>? filter, ref TopKHeap heap)
    {
        float key = KeyOf(query, row);
        if (key > heap.Threshold) return;
        long id = _rows.Ids[row];
        if (filter is null || filter(id)) heap.Push(key, id);
    }

    // Smaller is closer: the squared distance, or the negated similarity.
    private float KeyOf(ReadOnlySpan<float> query, int row)
    {
        ReadOnlySpan<float> x = _vectors.AsSpan(row * Dimension, Dimension);
        return Metric == Metric.L2 ? Distance.SquaredL2(query, x) : -Distance.InnerProduct(query, x);
    }

    // Annoy's dot-product trick: with an extra component √(M² − ‖x‖²) every vector has norm M, and a query
    // extended by zero has q·x unchanged, so the largest inner product is the smallest angle.
    private (float[] Data, int Width) AugmentForInnerProduct(int n)
    {
        int d = Dimension, width = d + 1;
        var norms = new float[n];
        for (int r = 0; r < n; r++) norms[r] = TensorPrimitives.SumOfSquares(_vectors.AsSpan(r * d, d));
        float maxSquared = n == 0 ? 0f : TensorPrimitives.Max<float>(norms);
        var data = new float[(long)n * width];
        for (int r = 0; r < n; r++)
        {
            Span<float> row = data.AsSpan(r * width, width);
            _vectors.AsSpan(r * d, d).CopyTo(row);
            row[d] = MathF.Sqrt(Math.Max(0f, maxSquared - norms[r]));
            float norm = TensorPrimitives.Norm(row);
            if (norm > 0f) TensorPrimitives.Divide(row, norm, row);
        }
        return (data, width);
    }

    private int TreeSeed(int tree) => unchecked(Seed * 1_000_003 + tree * 7_919 + 17);

    // Per-thread search state reused across queries: the queue and a stamp per row marking candidates already seen.
    private sealed class SearchScratch
    {
        private int _stamp;

        public PriorityQueue<int, float> Queue { get; } = new();

        public int[] Seen { get; private set; } = [];

        public int NextStamp(int rows)
        {
            if (Seen.Length < rows || _stamp == int.MaxValue)
            {
                Seen = new int[Math.Max(rows, Seen.Length)];
                _stamp = 0;
            }
            return ++_stamp;
        }
    }
}
