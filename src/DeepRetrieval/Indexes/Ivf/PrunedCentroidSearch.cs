using System.Numerics.Tensors;
using DeepRetrieval.Distances;
using DeepRetrieval.Transforms;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// Exact nearest-centroid search for IVF's one-query path that reads a small part of the centroids. The centroids'
/// leading principal directions P give every centroid a cheap lower bound on its distance to the query:
/// ‖q − c‖² = ‖P(q − c)‖² + ‖R(q − c)‖² ≥ ‖P(q − c)‖² + (‖Rq‖ − ‖Rc‖)², with R the rest of the space (for inner
/// product, Cauchy–Schwarz bounds q·c by Pq·Pc + ‖Rq‖‖Rc‖). Only centroids whose bound does not exceed the current
/// n-th best exact distance are compared in full, so the result is the flat scan's, ties included.
/// </summary>
/// <remarks>
/// On Fashion-MNIST (1,024 centroids of 784 floats, 3.2 MB, more than a core's L2) 64 directions leave about 20
/// full comparisons at nprobe 8: the query reads the 200 KB basis, the 256 KB of projected centroids and those
/// rows instead of the whole table. Batches keep the flat quantizer's matrix-multiply path, which is faster there.
/// </remarks>
internal sealed class PrunedCentroidSearch
{
    private const int MinimumTableFloats = 1 << 18;
    private const int MinimumLists = 256;
    private const int MaximumRank = 64;
    // Bounds and exact distances are rounded separately in float; this margin (relative to the norms involved, far
    // above float rounding and far below the gaps between centroids) keeps the bound below the computed distance.
    private const float RoundingMargin = 1e-5f;
    private const int SubspaceIterations = 6;
    private const int SubspaceSeed = 1234;

    private readonly int _dimension;
    private readonly int _lists;
    private readonly int _rank;
    private readonly bool _innerProduct;
    private readonly float[] _centroids;
    private readonly float[] _basis;            // rank × dimension, orthonormal rows
    private readonly float[] _origin;           // the centroids' mean for L2 (the bound is then better conditioned), 0 for inner product
    private readonly float[] _projected;        // rank × lists: P(c − origin), one row per direction so the bound loop streams
    private readonly float[] _projectedNorms;   // ‖P(c − origin)‖²
    private readonly float[] _residualNorms;    // ‖R(c − origin)‖
    private readonly float[] _margins;          // RoundingMargin · ‖c − origin‖²

    private PrunedCentroidSearch(float[] centroids, int lists, int dimension, int rank, bool innerProduct)
    {
        _dimension = dimension;
        _lists = lists;
        _rank = rank;
        _innerProduct = innerProduct;
        _centroids = centroids;
        float[] mean = PcaTransform.ComputeMean(centroids.AsSpan(0, lists * dimension), lists, dimension);
        _origin = innerProduct ? new float[dimension] : mean;
        _basis = PrincipalDirections(centroids, mean, lists, dimension, rank);
        _projected = new float[rank * lists];
        _projectedNorms = new float[lists];
        _residualNorms = new float[lists];
        _margins = new float[lists];
        var centred = new float[dimension];
        var projection = new float[rank];
        for (int i = 0; i < lists; i++)
        {
            TensorPrimitives.Subtract(centroids.AsSpan(i * dimension, dimension), _origin, centred);
            (double norm, double projectedNorm) = Project(centred, projection);
            for (int j = 0; j < rank; j++) _projected[j * lists + i] = projection[j];
            _projectedNorms[i] = (float)projectedNorm;
            _residualNorms[i] = (float)Math.Sqrt(Math.Max(0, norm - projectedNorm));
            _margins[i] = (float)(RoundingMargin * norm);
        }
    }

    /// <summary>The number of principal directions the bounds use.</summary>
    public int Rank => _rank;

    /// <summary>
    /// Builds the search for a trained IVF's centroids, or returns null when the table is small enough that a full
    /// scan is as fast (fewer than 256 lists, or under a megabyte of centroids).
    /// </summary>
    public static PrunedCentroidSearch? TryCreate(float[] centroids, int lists, int dimension, bool innerProduct)
    {
        if (lists < MinimumLists || (long)lists * dimension < MinimumTableFloats || dimension < 4 * 16) return null;
        int rank = Math.Min(MaximumRank, dimension / 4 / 16 * 16);
        return new PrunedCentroidSearch(centroids, lists, dimension, rank, innerProduct);
    }

    // The centred centroids' leading directions by subspace iteration, X ← orth(Aᵀ A X): tens of milliseconds where
    // a full eigendecomposition of the d × d covariance takes seconds at d = 784. Any orthonormal rows keep the
    // bounds valid; better directions only make them tighter, so a few iterations are enough.
    private static float[] PrincipalDirections(float[] centroids, float[] mean, int lists, int dimension, int rank)
    {
        var random = new Random(SubspaceSeed);
        var basis = new float[rank * dimension];
        for (int i = 0; i < basis.Length; i++) basis[i] = (float)(random.NextDouble() - 0.5);
        Orthonormalize(basis, rank, dimension);
        var centred = new float[lists * dimension];
        for (int i = 0; i < lists; i++)
            TensorPrimitives.Subtract(centroids.AsSpan(i * dimension, dimension), mean, centred.AsSpan(i * dimension, dimension));
        var scores = new float[rank];
        var next = new float[rank * dimension];
        for (int iteration = 0; iteration < SubspaceIterations; iteration++)
        {
            next.AsSpan().Clear();
            for (int i = 0; i < lists; i++)
            {
                ReadOnlySpan<float> row = centred.AsSpan(i * dimension, dimension);
                for (int j = 0; j < rank; j++) scores[j] = TensorPrimitives.Dot(row, basis.AsSpan(j * dimension, dimension));
                for (int j = 0; j < rank; j++)
                {
                    Span<float> direction = next.AsSpan(j * dimension, dimension);
                    TensorPrimitives.MultiplyAdd(row, scores[j], direction, direction);
                }
            }
            Orthonormalize(next, rank, dimension);
            (basis, next) = (next, basis);
        }
        return basis;
    }

    // Householder QR of the rows as columns: Q's columns are orthonormal even when the centroids span fewer
    // dimensions than the rank.
    private static void Orthonormalize(float[] rows, int count, int dimension)
    {
        Matrix<double> q = Matrix<double>.Build.Dense(dimension, count, (t, j) => rows[j * dimension + t]).QR(QRMethod.Thin).Q;
        for (int j = 0; j < count; j++)
            for (int t = 0; t < dimension; t++) rows[j * dimension + t] = (float)q[t, j];
    }

    /// <summary>
    /// Finds the <paramref name="ids"/>.Length nearest centroids in ascending order of key (squared distance, or the
    /// negated inner product); slots beyond <see cref="_lists"/> get id −1.
    /// </summary>
    public void Search(ReadOnlySpan<float> query, Span<long> ids, Span<float> keys, IvfScratch scratch)
    {
        int lists = _lists, rank = _rank;
        scratch.EnsurePruning(_dimension, rank, lists, ids.Length);
        Span<float> centred = scratch.Residual.AsSpan(0, _dimension);
        Span<float> projection = scratch.Projection.AsSpan(0, rank);
        Span<float> bounds = scratch.Bounds.AsSpan(0, lists);

        TensorPrimitives.Subtract(query, _origin, centred);
        (double queryNorm, double queryProjectedNorm) = Project(centred, projection);
        float queryResidual = (float)Math.Sqrt(Math.Max(0, queryNorm - queryProjectedNorm));

        // bounds ← P(q − o) · P(c − o) for every centroid, one direction at a time over contiguous rows.
        bounds.Clear();
        for (int j = 0; j < rank; j++)
            TensorPrimitives.MultiplyAdd(_projected.AsSpan(j * lists, lists), projection[j], bounds, bounds);
        FinishBounds(bounds, (float)queryProjectedNorm, queryResidual, (float)(RoundingMargin * queryNorm));

        // Seed with the smallest bounds, then compare in full whatever could still beat the n-th best.
        var heap = new TopKHeap(keys, ids);
        int seeds = Math.Min(ids.Length, lists);
        Span<float> seedKeys = scratch.SeedKeys.AsSpan(0, seeds);
        Span<long> seedIds = scratch.SeedIds.AsSpan(0, seeds);
        var seedHeap = new TopKHeap(seedKeys, seedIds);
        for (int i = 0; i < lists; i++)
            if (bounds[i] <= seedHeap.Threshold) seedHeap.Push(bounds[i], i);
        for (int s = 0; s < seeds; s++)
        {
            int list = (int)seedIds[s];
            heap.Push(ExactKey(query, list), list);
            bounds[list] = float.PositiveInfinity;
        }
        if (seeds < lists)
        {
            for (int i = 0; i < lists; i++)
                if (bounds[i] <= heap.Threshold) heap.Push(ExactKey(query, i), i);
        }
        heap.SortAndPad();
    }

    private void FinishBounds(Span<float> dots, float queryProjectedNorm, float queryResidual, float queryMargin)
    {
        ReadOnlySpan<float> projectedNorms = _projectedNorms, residualNorms = _residualNorms, margins = _margins;
        if (_innerProduct)
        {
            // −q·c ≥ −(Pq·Pc + ‖Rq‖‖Rc‖)
            for (int i = 0; i < dots.Length; i++)
                dots[i] = -(dots[i] + queryResidual * residualNorms[i]) - 0.5f * (queryMargin + margins[i]);
            return;
        }
        // ‖q − c‖² ≥ ‖Pq‖² + ‖Pc‖² − 2 Pq·Pc + (‖Rq‖ − ‖Rc‖)²
        for (int i = 0; i < dots.Length; i++)
        {
            float residualGap = queryResidual - residualNorms[i];
            dots[i] = queryProjectedNorm + projectedNorms[i] - 2 * dots[i] + residualGap * residualGap - queryMargin - margins[i];
        }
    }

    private float ExactKey(ReadOnlySpan<float> query, int list)
    {
        ReadOnlySpan<float> centroid = _centroids.AsSpan(list * _dimension, _dimension);
        return _innerProduct ? -Distance.InnerProduct(query, centroid) : Distance.SquaredL2(query, centroid);
    }

    // Returns (‖x‖², ‖Px‖²) in double, writing Px.
    private (double Norm, double ProjectedNorm) Project(ReadOnlySpan<float> x, Span<float> projection)
    {
        double projectedNorm = 0;
        for (int j = 0; j < _rank; j++)
        {
            float value = TensorPrimitives.Dot(_basis.AsSpan(j * _dimension, _dimension), x);
            projection[j] = value;
            projectedNorm += (double)value * value;
        }
        return (TensorPrimitives.Dot(x, x), projectedNorm);
    }

    /// <summary>Bytes held beyond the IVF's own centroid array.</summary>
    public long MemoryUsageBytes =>
        (long)(_basis.Length + _origin.Length + _projected.Length + _projectedNorms.Length + _residualNorms.Length + _margins.Length) * sizeof(float);
}
