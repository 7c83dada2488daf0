using System.Numerics.Tensors;

namespace DeepRetrieval.Indexes.Trees;

/// <summary>
/// Builds one Annoy tree: each node picks two centres by a short two-means run on its points and splits them by
/// the hyperplane equidistant from the two (through the origin for angular data), down to leaves of at most
/// <c>leafSize</c> points. Nodes come out in pre-order, so leaves tile <see cref="Rows"/> left to right.
/// </summary>
/// <remarks>Everything random comes from the one seeded generator, so a tree depends only on its seed and data.</remarks>
internal sealed class RandomProjectionTreeBuilder
{
    private const int TwoMeansSteps = 200;       // Annoy's iteration_steps
    private const int SplitAttempts = 3;
    private const double AcceptedImbalance = 0.95; // Annoy retries splits leaving more than 95% on one side
    private const double TolerableImbalance = 0.99; // and falls back to a random split beyond 99%

    private readonly float[] _data;
    private readonly int _width;
    private readonly int _storedWidth;
    private readonly int _leafSize;
    private readonly bool _angular;
    private readonly Random _random;
    private readonly float[] _p, _q, _normal, _bestNormal;
    // Which side each position in Rows falls on, for the current attempt and the best one so far.
    private bool[] _right, _bestRight;

    /// <summary>Prepares a builder over rows 0..<paramref name="rowCount"/>−1 of <paramref name="data"/>.</summary>
    /// <param name="data">Row-major build vectors of <paramref name="width"/> components (unit length when angular).</param>
    /// <param name="width">Components per build vector.</param>
    /// <param name="storedWidth">Leading components of each normal kept for searching (queries have this many).</param>
    /// <param name="rowCount">Rows to index.</param>
    /// <param name="leafSize">The most points per leaf.</param>
    /// <param name="angular">True for hyperplanes through the origin (cosine, inner product), false for Euclidean ones.</param>
    /// <param name="seed">This tree's seed.</param>
    public RandomProjectionTreeBuilder(float[] data, int width, int storedWidth, int rowCount, int leafSize, bool angular, int seed)
    {
        _data = data;
        _width = width;
        _storedWidth = storedWidth;
        _leafSize = leafSize;
        _angular = angular;
        _random = new Random(seed);
        _p = new float[width];
        _q = new float[width];
        _normal = new float[width];
        _bestNormal = new float[width];
        _right = new bool[rowCount];
        _bestRight = new bool[rowCount];
        Rows = new int[rowCount];
        for (int i = 0; i < rowCount; i++) Rows[i] = i;
    }

    /// <summary>The row of every point, leaf by leaf.</summary>
    public int[] Rows { get; }

    /// <summary><c>storedWidth</c> components per internal node.</summary>
    public List<float> Normals { get; } = [];

    /// <summary>One per internal node: the hyperplane is <c>normal·x + offset = 0</c>.</summary>
    public List<float> Offsets { get; } = [];

    /// <summary>Two node references per internal node (≥ 0 internal node, &lt; 0 leaf <c>~ref</c>): margin ≤ 0 side, then margin &gt; 0 side.</summary>
    public List<int> Children { get; } = [];

    /// <summary>Where each leaf starts in <see cref="Rows"/>.</summary>
    public List<int> LeafStarts { get; } = [];

    /// <summary>Builds the tree and returns its root reference.</summary>
    public int Build() => BuildNode(0, Rows.Length);

    private int BuildNode(int start, int end)
    {
        if (end - start <= _leafSize)
        {
            LeafStarts.Add(start);
            return ~(LeafStarts.Count - 1);
        }

        int node = Offsets.Count;
        Offsets.Add(0f);
        Children.Add(0);
        Children.Add(0);
        for (int j = 0; j < _storedWidth; j++) Normals.Add(0f);

        int middle = -1;
        float offset = 0f;
        double bestImbalance = double.PositiveInfinity;
        for (int attempt = 0; attempt < SplitAttempts && bestImbalance > AcceptedImbalance; attempt++)
        {
            float candidateOffset = ChooseHyperplane(start, end);
            int split = CountLeft(start, end, candidateOffset);
            double imbalance = Math.Max(split - start, end - split) / (double)(end - start);
            if (imbalance < bestImbalance)
            {
                bestImbalance = imbalance;
                offset = candidateOffset;
                _normal.CopyTo(_bestNormal, 0);
                (_right, _bestRight) = (_bestRight, _right);
            }
        }

        if (bestImbalance <= TolerableImbalance)
        {
            middle = Partition(start, end);
            for (int j = 0; j < _storedWidth; j++) Normals[node * _storedWidth + j] = _bestNormal[j];
            Offsets[node] = offset;
        }
        else
        {
            // No hyperplane separates these points (typically duplicates): split them at random, as Annoy does,
            // with a zero normal so a search gives both halves the same priority.
            for (int i = end - 1; i > start; i--)
            {
                int j = start + _random.Next(i - start + 1);
                (Rows[i], Rows[j]) = (Rows[j], Rows[i]);
            }
            middle = start + (end - start) / 2;
        }

        int left = BuildNode(start, middle);
        int right = BuildNode(middle, end);
        Children[2 * node] = left;
        Children[2 * node + 1] = right;
        return node;
    }

    // Annoy's two_means: two random points, then weighted centroid updates from random samples; leaves the
    // hyperplane's normal in _normal and returns its offset.
    private float ChooseHyperplane(int start, int end)
    {
        int count = end - start;
        int i = _random.Next(count);
        int j = _random.Next(count - 1);
        if (j >= i) j++;
        RowOf(start + i).CopyTo(_p);
        RowOf(start + j).CopyTo(_q);
        int ic = 1, jc = 1;
        for (int step = 0; step < TwoMeansSteps; step++)
        {
            ReadOnlySpan<float> v = RowOf(start + _random.Next(count));
            float di = ic * TensorPrimitives.Distance(_p, v);
            float dj = jc * TensorPrimitives.Distance(_q, v);
            if (di < dj)
            {
                Update(_p, v, ic);
                ic++;
            }
            else if (dj < di)
            {
                Update(_q, v, jc);
                jc++;
            }
        }

        if (_angular)
        {
            Normalize(_p);
            Normalize(_q);
        }
        TensorPrimitives.Subtract(_p, _q, _normal);
        Normalize(_normal);
        if (_angular) return 0f;
        // The plane through the midpoint of the two centres.
        float offset = 0f;
        for (int k = 0; k < _width; k++) offset -= _normal[k] * (_p[k] + _q[k]) * 0.5f;
        return offset;
    }

    private static void Update(float[] centre, ReadOnlySpan<float> v, int count)
    {
        for (int k = 0; k < centre.Length; k++) centre[k] = (centre[k] * count + v[k]) / (count + 1);
    }

    private static void Normalize(float[] vector)
    {
        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0f) TensorPrimitives.Divide(vector, norm, vector);
    }

    // Records each point's side under the current hyperplane and returns where the right side would start.
    private int CountLeft(int start, int end, float offset)
    {
        int left = start;
        for (int i = start; i < end; i++)
        {
            bool right = TensorPrimitives.Dot(_normal, RowOf(i)) + offset > 0f;
            _right[i] = right;
            if (!right) left++;
        }
        return left;
    }

    // Moves the points the best hyperplane puts on the margin ≤ 0 side to the front.
    private int Partition(int start, int end)
    {
        int lo = start, hi = end - 1;
        while (lo <= hi)
        {
            if (!_bestRight[lo]) lo++;
            else
            {
                (Rows[lo], Rows[hi]) = (Rows[hi], Rows[lo]);
                (_bestRight[lo], _bestRight[hi]) = (_bestRight[hi], _bestRight[lo]);
                hi--;
            }
        }
        return lo;
    }

    private ReadOnlySpan<float> RowOf(int position) => _data.AsSpan(Rows[position] * _width, _width);
}
