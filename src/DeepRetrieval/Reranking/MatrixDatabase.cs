using System.Collections.Frozen;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// A re-ranking database held in memory as a row-major matrix with one id per row, searched exactly (a
/// <see cref="FlatIndex"/> is built on first search). The re-rankers work on this form internally; any other
/// <see cref="IRerankingDatabase"/> is copied into one with <see cref="From"/>.
/// </summary>
public sealed class MatrixDatabase : IRerankingDatabase
{
    private readonly float[] _vectors;
    private readonly long[] _ids;
    private readonly FrozenDictionary<long, int>? _rowsById;
    private readonly Lazy<FlatIndex> _index;

    /// <summary>Wraps row-major vectors (not copied; do not change them afterwards).</summary>
    /// <param name="vectors">count × dimension finite values.</param>
    /// <param name="dimension">Components per vector; positive.</param>
    /// <param name="ids">One distinct non-negative id per row; null numbers the rows 0, 1, 2, ….</param>
    /// <param name="metric">How <see cref="Search"/> compares vectors (inner product by default, the similarity the re-rankers use).</param>
    /// <exception cref="ArgumentException">
    /// The vectors are empty or not whole rows or hold NaN or infinity, or the ids are of the wrong count, negative or repeated.
    /// </exception>
    public MatrixDatabase(float[] vectors, int dimension, long[]? ids = null, Metric metric = Metric.InnerProduct)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (vectors.Length == 0 || vectors.Length % dimension != 0)
            throw new ArgumentException($"vectors holds {vectors.Length} values, which is not a positive whole number of rows of dimension {dimension}.", nameof(vectors));
        if (!FiniteValues.All(vectors))
            throw new ArgumentException($"vectors holds NaN or infinity at index {IndexOfNonFinite(vectors)}.", nameof(vectors));
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric.");
        int count = vectors.Length / dimension;
        if (ids is null)
        {
            ids = new long[count];
            for (int i = 0; i < count; i++) ids[i] = i;
        }
        else
        {
            if (ids.Length != count)
                throw new ArgumentException($"ids holds {ids.Length} values but vectors holds {count} rows; it needs one id per row.", nameof(ids));
            var rows = new Dictionary<long, int>(count);
            for (int i = 0; i < count; i++)
            {
                if (ids[i] < 0)
                    throw new ArgumentException($"ids[{i}] is {ids[i]}; ids must be non-negative.", nameof(ids));
                if (!rows.TryAdd(ids[i], i))
                    throw new ArgumentException($"ids[{i}] = {ids[i]} repeats ids[{rows[ids[i]]}]; ids must be distinct.", nameof(ids));
            }

            if (!IsIdentity(ids)) _rowsById = rows.ToFrozenDictionary();
        }

        _vectors = vectors;
        _ids = ids;
        Dimension = dimension;
        Metric = metric;
        _index = new Lazy<FlatIndex>(BuildIndex, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public Metric Metric { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount => _ids.Length;

    /// <inheritdoc />
    public long Count => _ids.Length;

    /// <inheritdoc />
    public IEnumerable<long> Ids => _ids;

    /// <summary>All vectors, row-major, in row order.</summary>
    public ReadOnlyMemory<float> Vectors => _vectors;

    /// <summary>The id of each row.</summary>
    public ReadOnlyMemory<long> RowIds => _ids;

    /// <summary>The vector of one row.</summary>
    /// <param name="row">0 ≤ row &lt; <see cref="RowCount"/>.</param>
    public ReadOnlySpan<float> GetRow(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, RowCount);
        return _vectors.AsSpan(row * Dimension, Dimension);
    }

    /// <summary>The row holding <paramref name="id"/>, or −1 when the id is not stored.</summary>
    /// <param name="id">A database id.</param>
    public int RowOf(long id)
    {
        if (_rowsById is null) return id >= 0 && id < _ids.Length ? (int)id : -1;
        return _rowsById.TryGetValue(id, out int row) ? row : -1;
    }

    /// <inheritdoc />
    public bool Contains(long id) => RowOf(id) >= 0;

    /// <inheritdoc />
    public void Reconstruct(long id, Span<float> destination)
    {
        if (destination.Length != Dimension)
            throw new ArgumentException($"destination holds {destination.Length} values; it needs the dimension, {Dimension}.", nameof(destination));
        int row = RowOf(id);
        if (row < 0) throw new KeyNotFoundException($"Id {id} is not in the database.");
        _vectors.AsSpan(row * Dimension, Dimension).CopyTo(destination);
    }

    /// <inheritdoc />
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, SearchOptions? options = null) =>
        _index.Value.Search(queries, k, ids, distances, options);

    /// <summary>
    /// Returns <paramref name="database"/> itself when it is a <see cref="MatrixDatabase"/>, otherwise copies its
    /// vectors and ids into one (keeping its metric).
    /// </summary>
    /// <param name="database">Any database.</param>
    /// <exception cref="InvalidDataException">The database enumerates a different number of ids than its count, or holds no vectors.</exception>
    public static MatrixDatabase From(IRerankingDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (database is MatrixDatabase matrix) return matrix;
        long count = database.Count;
        int dimension = database.Dimension;
        if (count <= 0 || count * dimension > Array.MaxLength)
            throw new InvalidDataException($"The database reports {count} vectors of dimension {dimension}; between 1 and {Array.MaxLength / Math.Max(1, dimension)} can be copied into memory.");
        var ids = new long[count];
        var vectors = new float[count * dimension];
        int row = 0;
        foreach (long id in database.Ids)
        {
            if (row == count)
                throw new InvalidDataException($"The database enumerates more ids than its count, {count}.");
            ids[row] = id;
            database.Reconstruct(id, vectors.AsSpan(row * dimension, dimension));
            row++;
        }

        if (row != count)
            throw new InvalidDataException($"The database enumerates {row} ids but reports a count of {count}.");
        return new MatrixDatabase(vectors, dimension, ids, database.Metric);
    }

    /// <summary>Row indices of the given ids, with a clear error naming the argument for an unknown id.</summary>
    internal int[] RowsOf(ReadOnlySpan<long> ids, string paramName)
    {
        var rows = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            rows[i] = RowOf(ids[i]);
            if (rows[i] < 0)
                throw new ArgumentException($"{paramName}[{i}] = {ids[i]} is not an id of the database.", paramName);
        }

        return rows;
    }

    private FlatIndex BuildIndex()
    {
        var index = new FlatIndex(Dimension, Metric);
        index.Add(_vectors, _ids);
        return index;
    }

    private static bool IsIdentity(long[] ids)
    {
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] != i) return false;
        return true;
    }

    private static int IndexOfNonFinite(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
