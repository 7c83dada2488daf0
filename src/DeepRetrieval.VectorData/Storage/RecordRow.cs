namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// One stored record in schema order: the key, the data values and the vectors. Rows are immutable once built: the
/// collection copies collection values and vectors on the way in and out, so a row can be read after any lock is released.
/// </summary>
/// <remarks>
/// Values are normalised: scalars are boxed values of their <see cref="ScalarKind"/>'s .NET type, collections are arrays
/// of the element type (whatever the record's own shape), null is null. A vector is null when the record has none for that
/// column (a null nullable vector property, or vectors left out of a read).
/// </remarks>
public sealed class RecordRow
{
    /// <summary>Creates a row. The arrays are taken over, not copied: the caller must not change them afterwards.</summary>
    /// <param name="key">The key (never null).</param>
    /// <param name="values">One value per data column.</param>
    /// <param name="vectors">One vector (or null) per vector column.</param>
    public RecordRow(object key, object?[] values, float[]?[] vectors)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(vectors);
        Key = key;
        Values = values;
        Vectors = vectors;
    }

    /// <summary>The key.</summary>
    public object Key { get; }

    /// <summary>One value per data column.</summary>
    internal object?[] Values { get; }

    /// <summary>One vector (or null) per vector column.</summary>
    internal float[]?[] Vectors { get; }

    /// <summary>The value of a data column.</summary>
    /// <param name="column">Position in <see cref="RecordSchema.Data"/>.</param>
    public object? GetValue(int column) => Values[column];

    /// <summary>The vector of a vector column, or null when the row has none.</summary>
    /// <param name="column">Position in <see cref="RecordSchema.Vectors"/>.</param>
    public ReadOnlyMemory<float>? GetVector(int column) => Vectors[column] is { } v ? v : null;

    /// <summary>A copy of this row without its vectors (for reads that leave vectors out).</summary>
    public RecordRow WithoutVectors() => Vectors.Length == 0 ? this : new RecordRow(Key, Values, new float[]?[Vectors.Length]);
}
