using System.Numerics.Tensors;

namespace DeepRetrieval.Distances;

/// <summary>
/// Squared Mahalanobis distance <c>(x − y)ᵀ M (x − y)</c> for a fixed symmetric positive semi-definite
/// matrix <c>M</c> (usually the inverse covariance of the data). <c>M</c> is factored once as
/// <c>M = L Lᵀ</c> (Cholesky), so each distance is <c>‖Lᵀ (x − y)‖²</c>; a matrix that is not
/// positive semi-definite is rejected.
/// </summary>
/// <remarks>Thread-safe: each call uses stack or caller scratch, never shared state.</remarks>
public sealed class MahalanobisDistance
{
    private readonly float[] _upper; // Lᵀ of the Cholesky factor M = L Lᵀ, row-major
    private readonly float[] _matrix;

    /// <summary>Creates the distance from a row-major d × d matrix.</summary>
    /// <param name="matrix">Row-major, symmetric, positive semi-definite; copied.</param>
    /// <param name="dimension">d.</param>
    /// <exception cref="ArgumentException">Wrong size, non-finite values, not symmetric, or not positive semi-definite.</exception>
    public MahalanobisDistance(ReadOnlySpan<float> matrix, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (matrix.Length != (long)dimension * dimension)
            throw new ArgumentException($"The matrix must be {dimension} × {dimension} = {(long)dimension * dimension} values; got {matrix.Length}.", nameof(matrix));
        if (!FiniteValues.All(matrix))
            throw new ArgumentException("The matrix contains NaN or infinite values.", nameof(matrix));
        Dimension = dimension;
        _matrix = matrix.ToArray();
        _upper = Factor(_matrix, dimension);
    }

    /// <summary>The dimension d.</summary>
    public int Dimension { get; }

    /// <summary>A copy of the matrix M, row-major.</summary>
    public float[] Matrix => (float[])_matrix.Clone();

    /// <summary>Builds the distance from the inverse of a covariance matrix estimated from the rows of <paramref name="data"/>, with ridge regularisation.</summary>
    /// <param name="data">Row-major samples.</param>
    /// <param name="dimension">d.</param>
    /// <param name="ridge">Added to the covariance diagonal before inversion so that rank-deficient data still gives a valid metric.</param>
    public static MahalanobisDistance FromData(ReadOnlySpan<float> data, int dimension, double ridge = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(ridge);
        if (data.Length % dimension != 0 || data.Length / dimension < 2)
            throw new ArgumentException($"data must hold at least two rows of {dimension} values; got {data.Length} values.", nameof(data));
        int n = data.Length / dimension, d = dimension;
        var mean = new double[d];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < d; j++)
                mean[j] += data[r * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        var cov = new double[d * d];
        var centred = new double[d];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < d; j++) centred[j] = data[r * d + j] - mean[j];
            for (int i = 0; i < d; i++)
                for (int j = i; j < d; j++)
                    cov[i * d + j] += centred[i] * centred[j];
        }
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                cov[i * d + j] /= n - 1;
                cov[j * d + i] = cov[i * d + j];
            }
            cov[i * d + i] += ridge;
        }
        return new MahalanobisDistance(Invert(cov, d), d);
    }

    /// <summary>The squared distance <c>(x − y)ᵀ M (x − y)</c>.</summary>
    /// <param name="x">First vector of <see cref="Dimension"/> values.</param>
    /// <param name="y">Second vector of <see cref="Dimension"/> values.</param>
    public float Compute(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Distance.CheckLengths(x.Length, y.Length);
        if (x.Length != Dimension)
            throw new ArgumentException($"Vectors must have dimension {Dimension}; got {x.Length}.", nameof(x));
        float[]? rented = null;
        Span<float> diff = Dimension <= 512 ? stackalloc float[Dimension] : (rented = System.Buffers.ArrayPool<float>.Shared.Rent(Dimension)).AsSpan(0, Dimension);
        try
        {
            TensorPrimitives.Subtract(x, y, diff);
            float sum = 0;
            ReadOnlySpan<float> upper = _upper;
            for (int i = 0; i < Dimension; i++)
            {
                float t = TensorPrimitives.Dot(upper.Slice(i * Dimension + i, Dimension - i), diff[i..]);
                sum += t * t;
            }
            return sum;
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }
    }

    // Cholesky M = L Lᵀ (L lower-triangular), so (x−y)ᵀ M (x−y) = ‖Lᵀ(x−y)‖². Returns Lᵀ row-major: row i
    // is non-zero only from column i on. Zero pivots are allowed so semi-definite matrices pass.
    private static float[] Factor(float[] matrix, int d)
    {
        const double tolerance = 1e-5;
        double scale = 1;
        for (int i = 0; i < d; i++) scale = Math.Max(scale, Math.Abs(matrix[i * d + i]));
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++)
                if (Math.Abs(matrix[i * d + j] - matrix[j * d + i]) > tolerance * scale)
                    throw new ArgumentException($"The matrix must be symmetric; M[{i},{j}] = {matrix[i * d + j]} but M[{j},{i}] = {matrix[j * d + i]}.", nameof(matrix));

        var l = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double sum = matrix[i * d + j];
                for (int k = 0; k < j; k++) sum -= l[i * d + k] * l[j * d + k];
                if (i == j)
                {
                    if (sum < -tolerance * scale)
                        throw new ArgumentException("The matrix must be positive semi-definite; its Cholesky factorisation met a negative pivot.", nameof(matrix));
                    l[i * d + i] = Math.Sqrt(Math.Max(sum, 0));
                }
                else
                {
                    l[i * d + j] = l[j * d + j] > 0 ? sum / l[j * d + j] : 0;
                }
            }
        }
        var upper = new float[d * d];
        for (int i = 0; i < d; i++)
            for (int j = i; j < d; j++)
                upper[i * d + j] = (float)l[j * d + i];
        return upper;
    }

    private static float[] Invert(double[] a, int d)
    {
        // Gauss–Jordan with partial pivoting on a copy; d is small (descriptor dimension).
        var m = (double[])a.Clone();
        var inv = new double[d * d];
        for (int i = 0; i < d; i++) inv[i * d + i] = 1;
        for (int col = 0; col < d; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < d; r++)
                if (Math.Abs(m[r * d + col]) > Math.Abs(m[pivot * d + col])) pivot = r;
            if (Math.Abs(m[pivot * d + col]) < 1e-300)
                throw new ArgumentException("The covariance matrix is singular; increase the ridge.");
            if (pivot != col)
            {
                for (int j = 0; j < d; j++)
                {
                    (m[col * d + j], m[pivot * d + j]) = (m[pivot * d + j], m[col * d + j]);
                    (inv[col * d + j], inv[pivot * d + j]) = (inv[pivot * d + j], inv[col * d + j]);
                }
            }
            double p = m[col * d + col];
            for (int j = 0; j < d; j++) { m[col * d + j] /= p; inv[col * d + j] /= p; }
            for (int r = 0; r < d; r++)
            {
                if (r == col) continue;
                double f = m[r * d + col];
                if (f == 0) continue;
                for (int j = 0; j < d; j++) { m[r * d + j] -= f * m[col * d + j]; inv[r * d + j] -= f * inv[col * d + j]; }
            }
        }
        var result = new float[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                result[i * d + j] = (float)(0.5 * (inv[i * d + j] + inv[j * d + i]));
        return result;
    }
}
