using DeepRetrieval.Distances;

namespace DeepRetrieval.Reranking;

/// <summary>
/// The working state of <see cref="KReciprocalReranker"/>: each node's k1 + 1 nearest nodes and row maximum, the
/// sparse k-reciprocal encoding V (after local query expansion) with its inverted index, and the final ranking of
/// every query node. Mirrors the steps of the reference implementation one by one; see the re-ranker for the maths.
/// </summary>
internal sealed class KReciprocalGraph
{
    private readonly float[] _nodes;
    private readonly int _count;
    private readonly int _dimension;
    private readonly int _k1;
    private readonly int _width;
    private readonly int[] _queryNodes;
    private readonly int _galleryStart;
    private readonly int _outputWidth;
    private readonly float[] _norms;

    private long[] _neighbors = [];
    private float[] _rowMaximum = [];
    private long[] _galleryNeighbors = [];

    // V after local query expansion, one sparse row per node (columns ascending), and its transpose.
    private int[][] _columns = [];
    private float[][] _values = [];
    private int[] _invertedStart = [];
    private int[] _invertedNodes = [];
    private float[] _invertedValues = [];

    public KReciprocalGraph(float[] nodes, int count, int dimension, int k1, int[] queryNodes, int galleryStart, int outputWidth)
    {
        _nodes = nodes;
        _count = count;
        _dimension = dimension;
        _k1 = k1;
        _width = k1 + 1;
        _queryNodes = queryNodes;
        _galleryStart = galleryStart;
        _outputWidth = outputWidth;
        _norms = new float[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> x = Row(i);
            _norms[i] = Distance.InnerProduct(x, x);
        }
    }

    /// <summary>Step 1: the k1 + 1 nearest nodes and the largest squared distance of every node (one exact pass).</summary>
    public void FindNeighbors(IProgress<RerankingProgress>? progress, CancellationToken cancellationToken)
    {
        _neighbors = new long[(long)_count * _width];
        var keys = new float[_neighbors.Length];
        _rowMaximum = new float[_count];
        var querySlot = new int[_count];
        Array.Fill(querySlot, -1);
        for (int s = 0; s < _queryNodes.Length; s++) querySlot[_queryNodes[s]] = s;
        // A node queried twice keeps one slot; the duplicate is served from it.
        _galleryNeighbors = new long[(long)_queryNodes.Length * _outputWidth];
        var galleryKeys = new float[_galleryNeighbors.Length];
        new NodeNeighborScan(_nodes, _count, _dimension).Run(_width, _neighbors, keys, _rowMaximum,
            querySlot, _galleryStart, _outputWidth, _galleryNeighbors, galleryKeys, progress, cancellationToken);
        for (int s = 0; s < _queryNodes.Length; s++)
        {
            int owner = querySlot[_queryNodes[s]];
            if (owner != s)
                _galleryNeighbors.AsSpan(owner * _outputWidth, _outputWidth).CopyTo(_galleryNeighbors.AsSpan(s * _outputWidth, _outputWidth));
        }
    }

    /// <summary>Steps 2 and 3: the k-reciprocal encoding V of every node, its local query expansion, and the inverted index.</summary>
    public void Encode(int k2, IProgress<RerankingProgress>? progress, CancellationToken cancellationToken)
    {
        int n = _count;
        var columns = new int[n][];
        var values = new float[n][];
        int half = (int)Math.Round(_k1 / 2.0, MidpointRounding.ToEven); // numpy's around(k1 / 2.)
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, n, options, () => new EncodeScratch(_width),
            (i, _, scratch) =>
            {
                (columns[i], values[i]) = EncodeRow(i, half, scratch);
                return scratch;
            },
            _ => { });
        progress?.Report(new RerankingProgress("k-reciprocal encoding", n, n));

        if (k2 != 1)
        {
            var expandedColumns = new int[n][];
            var expandedValues = new float[n][];
            Parallel.For(0, n, options, () => new Accumulator(n),
                (i, _, accumulator) =>
                {
                    (expandedColumns[i], expandedValues[i]) = ExpandRow(i, k2, columns, values, accumulator);
                    return accumulator;
                },
                _ => { });
            columns = expandedColumns;
            values = expandedValues;
            progress?.Report(new RerankingProgress("local query expansion", n, n));
        }

        _columns = columns;
        _values = values;
        BuildInvertedIndex();
    }

    /// <summary>Step 4: Jaccard and final distances of every query node, ranked.</summary>
    public (int[] Nodes, float[] Distances) Rank(float lambda, IProgress<RerankingProgress>? progress, CancellationToken cancellationToken)
    {
        int queries = _queryNodes.Length, width = _outputWidth;
        var resultNodes = new int[(long)queries * width];
        var distances = new float[resultNodes.Length];
        float jaccardWeight = (float)(1.0 - lambda);
        long done = 0;
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, queries, options, () => new RankScratch(_count, width),
            (s, _, scratch) =>
            {
                RankQuery(s, lambda, jaccardWeight, scratch, resultNodes.AsSpan(s * width, width), distances.AsSpan(s * width, width));
                long finished = Interlocked.Increment(ref done);
                if (finished % 256 == 0 || finished == queries) progress?.Report(new RerankingProgress("Jaccard distances", finished, queries));
                return scratch;
            },
            _ => { });
        return (resultNodes, distances);
    }

    private ReadOnlySpan<float> Row(int node) => _nodes.AsSpan(node * _dimension, _dimension);

    private ReadOnlySpan<long> Forward(int node, int length) => _neighbors.AsSpan(node * _width, length);

    // Row-normalised squared distance, original_dist[i, j] of the reference.
    private float Original(int i, int j)
    {
        float squared = i == j ? 0f : MathF.Max(0f, _norms[i] + _norms[j] - 2f * Distance.InnerProduct(Row(i), Row(j)));
        float maximum = _rowMaximum[i];
        return maximum > 0f ? squared / maximum : 0f;
    }

    // The nodes among the first `length` neighbours of `node` that have `node` among their own first `length`.
    private int Reciprocal(int node, int length, Span<int> result)
    {
        int count = 0;
        foreach (long forward in Forward(node, length))
        {
            if (Forward((int)forward, length).Contains(node)) result[count++] = (int)forward;
        }

        return count;
    }

    private (int[] Columns, float[] Values) EncodeRow(int i, int half, EncodeScratch scratch)
    {
        int reciprocal = Reciprocal(i, _width, scratch.Reciprocal);
        ReadOnlySpan<int> set = scratch.Reciprocal.AsSpan(0, reciprocal);
        List<int> expansion = scratch.Expansion;
        expansion.Clear();
        expansion.AddRange(set);
        for (int c = 0; c < reciprocal; c++)
        {
            int candidateCount = Reciprocal(set[c], half + 1, scratch.Candidate);
            ReadOnlySpan<int> candidate = scratch.Candidate.AsSpan(0, candidateCount);
            int shared = 0;
            foreach (int member in candidate)
                if (set.Contains(member)) shared++;
            if (shared > 2.0 / 3 * candidateCount) expansion.AddRange(candidate);
        }

        expansion.Sort();
        int unique = 0;
        for (int e = 0; e < expansion.Count; e++)
            if (e == 0 || expansion[e] != expansion[e - 1]) expansion[unique++] = expansion[e];

        var columns = new int[unique];
        var weights = new float[unique];
        float sum = 0f;
        for (int e = 0; e < unique; e++)
        {
            columns[e] = expansion[e];
            weights[e] = MathF.Exp(-Original(i, expansion[e]));
            sum += weights[e];
        }

        for (int e = 0; e < unique; e++) weights[e] /= sum;
        return (columns, weights);
    }

    // V_qe[i] = mean of V over the k2 nearest nodes of i, summed in rank order as numpy's mean over axis 0 does.
    private (int[] Columns, float[] Values) ExpandRow(int i, int k2, int[][] columns, float[][] values, Accumulator accumulator)
    {
        foreach (long neighbor in Forward(i, k2))
        {
            int[] c = columns[neighbor];
            float[] v = values[neighbor];
            for (int e = 0; e < c.Length; e++) accumulator.Add(c[e], v[e]);
        }

        return accumulator.Drain(k2);
    }

    private void BuildInvertedIndex()
    {
        int n = _count;
        var start = new int[n + 1];
        foreach (int[] row in _columns)
            foreach (int column in row) start[column + 1]++;
        for (int l = 0; l < n; l++) start[l + 1] += start[l];
        var nodes = new int[start[n]];
        var values = new float[start[n]];
        var fill = start[..n];
        for (int j = 0; j < n; j++)
        {
            int[] row = _columns[j];
            float[] v = _values[j];
            for (int e = 0; e < row.Length; e++)
            {
                int at = fill[row[e]]++;
                nodes[at] = j;
                values[at] = v[e];
            }
        }

        _invertedStart = start;
        _invertedNodes = nodes;
        _invertedValues = values;
    }

    private void RankQuery(int slot, float lambda, float jaccardWeight, RankScratch scratch, Span<int> resultNodes, Span<float> distances)
    {
        int i = _queryNodes[slot];
        float[] overlap = scratch.Overlap;
        List<int> touched = scratch.Touched;
        touched.Clear();
        int[] columns = _columns[i];
        float[] values = _values[i];
        for (int e = 0; e < columns.Length; e++)
        {
            int l = columns[e];
            float mine = values[e];
            for (int at = _invertedStart[l]; at < _invertedStart[l + 1]; at++)
            {
                int j = _invertedNodes[at];
                if (!scratch.IsMarked(j))
                {
                    scratch.Mark(j);
                    touched.Add(j);
                }

                overlap[j] += MathF.Min(mine, _invertedValues[at]);
            }
        }

        // Candidates: gallery nodes sharing support with the query, and the nearest gallery nodes by original distance.
        List<int> candidates = scratch.Candidates;
        candidates.Clear();
        foreach (int j in touched)
            if (j >= _galleryStart) candidates.Add(j);
        foreach (long j in _galleryNeighbors.AsSpan(slot * _outputWidth, _outputWidth))
        {
            if (!scratch.IsMarked((int)j))
            {
                scratch.Mark((int)j);
                candidates.Add((int)j);
            }
        }

        candidates.Sort();
        float[] candidateScores = scratch.Scores(candidates.Count);
        long[] candidateIds = scratch.Ids(candidates.Count);
        for (int c = 0; c < candidates.Count; c++)
        {
            int j = candidates[c];
            float shared = overlap[j];
            float jaccard = 1f - shared / (2f - shared);
            candidateScores[c] = jaccard * jaccardWeight + Original(i, j) * lambda;
            candidateIds[c] = j;
        }

        Span<long> ids = scratch.OutputIds;
        RerankingRows.SelectBest(candidateScores.AsSpan(0, candidates.Count), candidateIds.AsSpan(0, candidates.Count), ScoreOrder.SmallerIsBetter,
            ids, distances, scratch.HeapKeys, scratch.HeapIds);
        for (int r = 0; r < ids.Length; r++) resultNodes[r] = (int)ids[r];

        foreach (int j in touched) overlap[j] = 0f;
        scratch.ClearMarks();
    }

    private sealed class EncodeScratch(int width)
    {
        public int[] Reciprocal { get; } = new int[width];
        public int[] Candidate { get; } = new int[width];
        public List<int> Expansion { get; } = new(4 * width);
    }

    /// <summary>A dense float accumulator over all nodes that remembers which entries it touched.</summary>
    private sealed class Accumulator(int count)
    {
        private readonly float[] _sums = new float[count];
        private readonly bool[] _used = new bool[count];
        private readonly List<int> _touched = [];

        public void Add(int column, float value)
        {
            if (!_used[column])
            {
                _used[column] = true;
                _touched.Add(column);
            }

            _sums[column] += value;
        }

        public (int[] Columns, float[] Values) Drain(int divisor)
        {
            _touched.Sort();
            var columns = _touched.ToArray();
            var values = new float[columns.Length];
            for (int e = 0; e < columns.Length; e++)
            {
                values[e] = _sums[columns[e]] / divisor;
                _sums[columns[e]] = 0f;
                _used[columns[e]] = false;
            }

            _touched.Clear();
            return (columns, values);
        }
    }

    private sealed class RankScratch(int count, int width)
    {
        private readonly bool[] _marked = new bool[count];
        private readonly List<int> _markedList = [];
        private float[] _scores = new float[256];
        private long[] _ids = new long[256];

        public float[] Overlap { get; } = new float[count];
        public List<int> Touched { get; } = [];
        public List<int> Candidates { get; } = [];
        public long[] OutputIds { get; } = new long[width];
        public float[] HeapKeys { get; } = new float[width];
        public long[] HeapIds { get; } = new long[width];

        public bool IsMarked(int node) => _marked[node];

        public void Mark(int node)
        {
            _marked[node] = true;
            _markedList.Add(node);
        }

        public void ClearMarks()
        {
            foreach (int node in _markedList) _marked[node] = false;
            _markedList.Clear();
        }

        public float[] Scores(int count) => _scores.Length >= count ? _scores : _scores = new float[Math.Max(count, 2 * _scores.Length)];

        public long[] Ids(int count) => _ids.Length >= count ? _ids : _ids = new long[Math.Max(count, 2 * _ids.Length)];
    }
}
