namespace DeepRetrieval.Data;

/// <summary>
/// <see cref="Count"/> vectors of <see cref="Dimension"/> values each, stored row-major in one array, as read from
/// or written to the TEXMEX <c>.fvecs</c> / <c>.ivecs</c> / <c>.bvecs</c> formats and <c>.npy</c> matrices.
/// </summary>
/// <typeparam name="T">Element type: <see cref="float"/>, <see cref="int"/> or <see cref="byte"/> in practice.</typeparam>
public sealed class VectorSet<T> where T : unmanaged
{
    /// <summary>Wraps an existing row-major array (not copied).</summary>
    /// <param name="count">Number of vectors.</param>
    /// <param name="dimension">Values per vector.</param>
    /// <param name="data">count × dimension values, row-major.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has the wrong length.</exception>
    public VectorSet(int count, int dimension, T[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(dimension);
        ArgumentNullException.ThrowIfNull(data);
        long expected = (long)count * dimension;
        if (data.LongLength != expected)
            throw new ArgumentException(
                $"data must hold count × dimension = {count} × {dimension} = {expected} values; got {data.LongLength}.", nameof(data));
        Count = count;
        Dimension = dimension;
        Data = data;
    }

    /// <summary>Number of vectors (rows).</summary>
    public int Count { get; }

    /// <summary>Values per vector (columns).</summary>
    public int Dimension { get; }

    /// <summary>All values, row-major: vector i occupies <c>[i × Dimension, (i + 1) × Dimension)</c>.</summary>
    public T[] Data { get; }

    /// <summary>The values of one vector.</summary>
    /// <param name="index">Row, 0 ≤ index &lt; <see cref="Count"/>.</param>
    public Span<T> GetRow(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Data.AsSpan(index * Dimension, Dimension);
    }
}
