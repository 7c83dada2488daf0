namespace DeepRetrieval.Distances;

/// <summary>
/// Reference implementations of the distances in <see cref="Distance"/>, one component at a time with
/// double accumulation. Slow and exact: tests and debugging compare the vectorised kernels against them.
/// </summary>
public static class ScalarDistance
{
    /// <summary>Squared Euclidean distance <c>Σ (xᵢ − yᵢ)²</c>.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, same length.</param>
    public static float SquaredL2(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Distance.CheckLengths(x.Length, y.Length);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = (double)x[i] - y[i];
            sum += d * d;
        }
        return (float)sum;
    }

    /// <summary>Inner product <c>Σ xᵢ yᵢ</c>.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, same length.</param>
    public static float InnerProduct(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Distance.CheckLengths(x.Length, y.Length);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
            sum += (double)x[i] * y[i];
        return (float)sum;
    }

    /// <summary>Cosine similarity; 0 when either vector is zero.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, same length.</param>
    public static float Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Distance.CheckLengths(x.Length, y.Length);
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.Length; i++)
        {
            dot += (double)x[i] * y[i];
            nx += (double)x[i] * x[i];
            ny += (double)y[i] * y[i];
        }
        double denominator = Math.Sqrt(nx) * Math.Sqrt(ny);
        return denominator == 0 ? 0f : (float)(dot / denominator);
    }

    /// <summary>Hamming distance between packed bit strings, one bit at a time.</summary>
    /// <param name="x">First code.</param>
    /// <param name="y">Second code, same length.</param>
    public static int Hamming(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        Distance.CheckLengths(x.Length, y.Length);
        int count = 0;
        for (int i = 0; i < x.Length; i++)
            for (int bit = 0; bit < 8; bit++)
                count += ((x[i] ^ y[i]) >> bit) & 1;
        return count;
    }

    /// <summary>Squared Mahalanobis distance <c>(x − y)ᵀ M (x − y)</c> with a row-major d × d matrix.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, same length.</param>
    /// <param name="matrix">Row-major d × d matrix.</param>
    public static float SquaredMahalanobis(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> matrix)
    {
        Distance.CheckLengths(x.Length, y.Length);
        int d = x.Length;
        if (matrix.Length != (long)d * d)
            throw new ArgumentException($"The matrix must be {d} × {d} = {(long)d * d} values; got {matrix.Length}.", nameof(matrix));
        double sum = 0;
        for (int i = 0; i < d; i++)
        {
            double row = 0;
            for (int j = 0; j < d; j++)
                row += matrix[i * d + j] * ((double)x[j] - y[j]);
            sum += ((double)x[i] - y[i]) * row;
        }
        return (float)sum;
    }
}
