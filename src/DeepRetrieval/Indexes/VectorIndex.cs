using System.Buffers;
using System.Numerics.Tensors;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Shared behaviour of every index: argument validation with clear messages, automatic ids, the
/// allocating <see cref="Search(ReadOnlySpan{float}, int, SearchOptions?)"/> overload, cosine
/// normalisation and file saving. Concrete indexes implement the <c>…Core</c> methods.
/// </summary>
public abstract class VectorIndex : IVectorIndex
{
    /// <summary>Initialises an index of the given dimension and metric.</summary>
    /// <param name="dimension">Components per vector; positive.</param>
    /// <param name="metric">How vectors are compared.</param>
    protected VectorIndex(int dimension, Metric metric)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric.");
        Dimension = dimension;
        Metric = metric;
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public Metric Metric { get; }

    /// <inheritdoc />
    public abstract long Count { get; }

    /// <inheritdoc />
    public abstract string Kind { get; }

    /// <inheritdoc />
    public virtual bool IsTrained => true;

    /// <inheritdoc />
    public abstract long MemoryUsageBytes { get; }

    /// <summary>One past the largest id ever added; the first automatic id of the next <see cref="Add(ReadOnlySpan{float})"/>.</summary>
    public long NextId { get; protected set; }

    /// <inheritdoc />
    public void Train(ReadOnlySpan<float> vectors)
    {
        int rows = CheckVectors(vectors, nameof(vectors));
        if (rows == 0) throw new ArgumentException("Training needs at least one vector.", nameof(vectors));
        TrainCore(vectors, rows);
    }

    /// <inheritdoc />
    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids)
    {
        int rows = CheckVectors(vectors, nameof(vectors));
        if (ids.Length != rows)
            throw new ArgumentException($"Got {rows} vectors but {ids.Length} ids; give one id per vector.", nameof(ids));
        if (!IsTrained)
            throw new InvalidOperationException($"The {Kind} index must be trained before vectors are added; call Train first.");
        long max = -1;
        foreach (long id in ids)
        {
            if (id < 0) throw new ArgumentException($"Ids must be non-negative; got {id}.", nameof(ids));
            max = Math.Max(max, id);
        }
        if (rows == 0) return;
        AddCore(vectors, ids, rows);
        NextId = Math.Max(NextId, max + 1);
    }

    /// <inheritdoc />
    public long Add(ReadOnlySpan<float> vectors)
    {
        int rows = CheckVectors(vectors, nameof(vectors));
        long first = NextId;
        long[] ids = ArrayPool<long>.Shared.Rent(rows);
        try
        {
            for (int i = 0; i < rows; i++) ids[i] = first + i;
            Add(vectors, ids.AsSpan(0, rows));
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
        }
        return first;
    }

    /// <inheritdoc />
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, SearchOptions? options = null)
    {
        int rows = CheckVectors(queries, nameof(queries));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        long needed = (long)rows * k;
        if (ids.Length < needed || distances.Length < needed)
            throw new ArgumentException($"The result buffers must hold queryCount × k = {needed} values; got {ids.Length} ids and {distances.Length} distances.");
        options ??= SearchOptions.Default;
        options.ResolveThreads(1);
        if (rows == 0) return;
        if (Count == 0)
        {
            // An empty index is not an error: every neighbour is missing, as in Faiss.
            ids[..(int)needed].Fill(SearchResult.MissingId);
            distances[..(int)needed].Fill(float.NaN);
            return;
        }
        SearchCore(queries, rows, k, ids[..(int)needed], distances[..(int)needed], options);
    }

    /// <summary>Finds the <paramref name="k"/> nearest neighbours of each query and returns them in a new result.</summary>
    /// <param name="queries">Row-major queries.</param>
    /// <param name="k">Neighbours per query; positive.</param>
    /// <param name="options">Threads, filter, knobs; null for defaults.</param>
    public SearchResult Search(ReadOnlySpan<float> queries, int k, SearchOptions? options = null)
    {
        int rows = CheckVectors(queries, nameof(queries));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        long size = (long)rows * k;
        if (size > Array.MaxLength)
            throw new ArgumentException($"queryCount × k = {size} results exceed the largest array; search in smaller batches.");
        var ids = new long[size];
        var distances = new float[size];
        Search(queries, k, ids, distances, options);
        return new SearchResult(rows, k, ids, distances);
    }

    /// <inheritdoc />
    public RangeSearchResult RangeSearch(ReadOnlySpan<float> queries, float radius, SearchOptions? options = null)
    {
        int rows = CheckVectors(queries, nameof(queries));
        if (!float.IsFinite(radius))
            throw new ArgumentOutOfRangeException(nameof(radius), radius, "The radius must be a finite number.");
        options ??= SearchOptions.Default;
        options.ResolveThreads(1);
        if (rows == 0 || Count == 0)
            return new RangeSearchResult(new long[rows + 1], [], []);
        return RangeSearchCore(queries, rows, radius, options);
    }

    /// <inheritdoc />
    public int Remove(ReadOnlySpan<long> ids)
    {
        if (ids.IsEmpty) return 0;
        return RemoveCore(ids);
    }

    /// <inheritdoc />
    public virtual void SetSearchParameter(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        throw new ArgumentException($"The {Kind} index has no search parameter \"{name}\".", nameof(name));
    }

    /// <inheritdoc />
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream must be writable.", nameof(stream));
        IndexFile.Write(stream, Kind, WritePayload);
    }

    /// <summary>Saves to a file atomically (see <see cref="IndexFile.Save(IVectorIndex, string)"/>).</summary>
    /// <param name="path">Target file.</param>
    public void Save(string path) => IndexFile.Save(this, path);

    /// <summary>Learns from training vectors. The default does nothing.</summary>
    /// <param name="vectors">Validated row-major vectors.</param>
    /// <param name="rows">Row count.</param>
    protected virtual void TrainCore(ReadOnlySpan<float> vectors, int rows) { }

    /// <summary>Adds validated vectors with non-negative ids; must reject ids already present without changing the index.</summary>
    /// <param name="vectors">Validated row-major vectors.</param>
    /// <param name="ids">One id per row.</param>
    /// <param name="rows">Row count, at least one.</param>
    protected abstract void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows);

    /// <summary>Searches a non-empty index with validated arguments.</summary>
    /// <param name="queries">Validated row-major queries.</param>
    /// <param name="rows">Query count, at least one.</param>
    /// <param name="k">Positive.</param>
    /// <param name="ids">Exactly rows × k slots.</param>
    /// <param name="distances">Exactly rows × k slots.</param>
    /// <param name="options">Non-null options.</param>
    protected abstract void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options);

    /// <summary>Range search on a non-empty index with validated arguments.</summary>
    /// <param name="queries">Validated row-major queries.</param>
    /// <param name="rows">Query count, at least one.</param>
    /// <param name="radius">Finite radius or threshold.</param>
    /// <param name="options">Non-null options.</param>
    protected abstract RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options);

    /// <summary>Removes a non-empty list of ids all-or-nothing.</summary>
    /// <param name="ids">Ids to remove.</param>
    protected abstract int RemoveCore(ReadOnlySpan<long> ids);

    /// <summary>Writes the index's parameters and data.</summary>
    /// <param name="writer">The payload writer.</param>
    protected abstract void WritePayload(IndexPayloadWriter writer);

    /// <summary>Lets a composite index (a transform, a refiner, an IVF coarse quantizer) nest this index's payload in its own.</summary>
    internal void WritePayloadTo(IndexPayloadWriter writer) => WritePayload(writer);

    /// <summary>Checks that <paramref name="vectors"/> is whole rows of finite values and returns the row count.</summary>
    /// <param name="vectors">Row-major vectors.</param>
    /// <param name="parameterName">Named in the exception message.</param>
    protected int CheckVectors(ReadOnlySpan<float> vectors, string parameterName)
    {
        if (vectors.Length % Dimension != 0)
            throw new ArgumentException($"Expected whole rows of dimension {Dimension}, but got {vectors.Length} values ({vectors.Length} is not a multiple of {Dimension}). Check the vectors' dimension.", parameterName);
        if (!FiniteValues.All(vectors))
        {
            int bad = 0;
            while (float.IsFinite(vectors[bad])) bad++;
            throw new ArgumentException($"Row {bad / Dimension}, component {bad % Dimension} is {vectors[bad]}; vectors must be finite (no NaN or infinity).", parameterName);
        }
        return vectors.Length / Dimension;
    }

    /// <summary>Checks that a reconstruction buffer holds exactly one vector.</summary>
    /// <param name="destination">The caller's buffer.</param>
    protected void CheckDestination(Span<float> destination)
    {
        if (destination.Length != Dimension)
            throw new ArgumentException($"The destination must hold {Dimension} values; got {destination.Length}.", nameof(destination));
    }

    /// <summary>
    /// For <see cref="Metric.Cosine"/>, copies the queries into a pooled buffer and normalises them; otherwise
    /// returns them unchanged. Give <paramref name="pooled"/> back with <see cref="ReturnPooled"/>.
    /// </summary>
    /// <param name="queries">Validated row-major queries.</param>
    /// <param name="pooled">The rented buffer, or null when nothing was rented.</param>
    protected ReadOnlySpan<float> PrepareQueries(ReadOnlySpan<float> queries, out float[]? pooled)
    {
        pooled = null;
        if (Metric != Metric.Cosine) return queries;
        pooled = ArrayPool<float>.Shared.Rent(queries.Length);
        Span<float> copy = pooled.AsSpan(0, queries.Length);
        queries.CopyTo(copy);
        NormalizeForCosine(copy, nameof(queries));
        return copy;
    }

    /// <summary>Returns a buffer rented by <see cref="PrepareQueries"/>.</summary>
    /// <param name="pooled">The buffer, or null.</param>
    protected static void ReturnPooled(float[]? pooled)
    {
        if (pooled is not null) ArrayPool<float>.Shared.Return(pooled);
    }

    /// <summary>For <see cref="Metric.Cosine"/>, scales each row to unit length in place; rejects zero rows.</summary>
    /// <param name="rows">Row-major vectors to normalise.</param>
    /// <param name="parameterName">Named in the exception message.</param>
    protected void NormalizeForCosine(Span<float> rows, string parameterName)
    {
        if (Metric != Metric.Cosine) return;
        for (int r = 0; r < rows.Length / Dimension; r++)
        {
            Span<float> row = rows.Slice(r * Dimension, Dimension);
            float norm = TensorPrimitives.Norm(row);
            if (norm == 0f)
                throw new ArgumentException($"Row {r} is the zero vector, which has no cosine similarity to anything.", parameterName);
            TensorPrimitives.Divide(row, norm, row);
        }
    }
}
