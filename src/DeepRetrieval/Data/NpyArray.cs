namespace DeepRetrieval.Data;

/// <summary>A float32 array read from a NumPy <c>.npy</c> file: shape (n,) or (n, d), values in C (row-major) order.</summary>
public sealed class NpyArray
{
    private readonly int[] _shape;

    /// <summary>Wraps existing values (not copied).</summary>
    /// <param name="shape">One or two non-negative sizes.</param>
    /// <param name="data">The product of <paramref name="shape"/> values, row-major.</param>
    /// <exception cref="ArgumentException">The shape has the wrong rank, a negative size, or does not match the data.</exception>
    public NpyArray(ReadOnlySpan<int> shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (shape.Length is not (1 or 2))
            throw new ArgumentException($"shape must have 1 or 2 dimensions; got {shape.Length}.", nameof(shape));
        long expected = 1;
        foreach (int size in shape)
        {
            if (size < 0)
                throw new ArgumentException($"shape sizes must be non-negative; got {size}.", nameof(shape));
            expected *= size;
        }
        if (data.LongLength != expected)
            throw new ArgumentException($"data must hold {expected} values for the shape; got {data.LongLength}.", nameof(data));
        _shape = shape.ToArray();
        Data = data;
    }

    /// <summary>The sizes of the array's dimensions: (n,) or (n, d).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>All values in C order.</summary>
    public float[] Data { get; }

    /// <summary>Number of rows, the first size of <see cref="Shape"/>.</summary>
    public int Rows => _shape[0];

    /// <summary>Values per row: the second size of a 2-D array, 1 for a 1-D array.</summary>
    public int Columns => _shape.Length == 2 ? _shape[1] : 1;

    /// <summary>The values as <see cref="Rows"/> vectors of <see cref="Columns"/> values, sharing <see cref="Data"/>.</summary>
    public VectorSet<float> ToVectorSet() => new(Rows, Columns, Data);
}
