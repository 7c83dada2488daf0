using System.Buffers;
using System.Numerics.Tensors;
using DeepRetrieval.Persistence;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Shared behaviour of every index: argument validation with clear messages, ids (automatic ids, the next id, the
/// reserved <see cref="long.MaxValue"/>), the training rule, chunked cancellable adds with progress, cosine
/// normalisation and saving. Concrete indexes implement the <c>…Core</c> methods; an application's own index derives
/// from it too and registers an <see cref="IndexKindDescriptor"/> (see <see cref="IndexRegistry"/>).
/// </summary>
/// <remarks>
/// An index opened with <see cref="IndexFile.Map"/> is read-only and uses its file in place: <see cref="Mapping"/> is
/// set, train, add and remove throw <see cref="NotSupportedException"/>, and <see cref="Dispose()"/> unmaps the file.
/// Disposing an index that is not mapped does nothing.
/// </remarks>
public abstract class VectorIndex : IVectorIndex, IDisposable
{
    private const int DefaultChunkRows = 4096;
    private long _nextId;
    private bool _ownsMapping;

    /// <summary>Initialises an index of the given dimension and metric.</summary>
    /// <param name="dimension">Components per vector; positive.</param>
    /// <param name="metric">How vectors are compared; <see cref="Metric.Hamming"/> is for binary indexes and is rejected.</param>
    protected VectorIndex(int dimension, Metric metric) : this(dimension, metric, allowHamming: false)
    {
    }

    private protected VectorIndex(int dimension, Metric metric, bool allowHamming)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric.");
        if (metric == Metric.Hamming && !allowHamming)
            throw new ArgumentException("Metric.Hamming compares binary codes; this index compares float vectors. Use L2, InnerProduct or Cosine, or a binary index (BFlat).", nameof(metric));
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

    /// <inheritdoc />
    public virtual ReconstructionKind Reconstruction => ReconstructionKind.None;

    /// <summary>One past the largest id ever added; the first automatic id of the next <see cref="Add(ReadOnlySpan{float}, IndexBuildOptions?)"/>.</summary>
    public long NextId
    {
        get => Volatile.Read(ref _nextId);
        protected set => Volatile.Write(ref _nextId, value);
    }

    /// <summary>
    /// The read-only file mapping this index uses in place when it was opened with <see cref="IndexFile.Map"/> (its
    /// <see cref="IndexMapping.VerifyChecksum"/> checks the file); null for an index in memory.
    /// </summary>
    public IndexMapping? Mapping { get; private set; }

    /// <summary>Unmaps the file of an index opened with <see cref="IndexFile.Map"/>; does nothing for an index in memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the index holds outside the managed heap (the file mapping it owns).</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing && _ownsMapping) Mapping?.Dispose();
    }

    /// <summary>Marks the index as using <paramref name="mapping"/> in place (read-only); the outermost index of a mapped file owns it.</summary>
    internal void AttachMapping(IndexMapping mapping, bool owns)
    {
        Mapping = mapping;
        _ownsMapping = owns;
    }

    /// <summary>Keeps the mapping (if any) alive for the duration of a read; dispose the lease after it.</summary>
    private protected IndexMapping.Lease LeaseMapping() => Mapping?.Acquire() ?? default;

    /// <summary>Throws <see cref="NotSupportedException"/> when the index is mapped read-only.</summary>
    /// <param name="operation">What was attempted, as in "cannot be <paramref name="operation"/>" (for example "added to").</param>
    private protected void RequireWritable(string operation)
    {
        if (Mapping is { } mapping)
            throw new NotSupportedException($"The {Kind} index is mapped read-only from {mapping.Path}, so it cannot be {operation}; load it with IndexFile.Load for a writable copy.");
    }

    /// <summary>How many indexes deep this one is (1, or one more than the deepest part it wraps); bounded by <see cref="IndexFileFormat.MaxNestingDepth"/>.</summary>
    internal virtual int NestingDepth => 1;

    /// <inheritdoc />
    public abstract bool Contains(long id);

    /// <inheritdoc />
    public abstract long[] GetIds();

    /// <inheritdoc />
    public void Train(ReadOnlySpan<float> vectors, IndexBuildOptions? options = null)
    {
        options ??= IndexBuildOptions.Default;
        RequireWritable("trained");
        int rows = CheckVectors(vectors, nameof(vectors));
        if (rows == 0) throw new ArgumentException("Training needs at least one vector.", nameof(vectors));
        long count = Count;
        if (count > 0)
            throw new InvalidOperationException($"The {Kind} index already holds {count} vectors; Train must come before the first Add (training cannot re-encode stored vectors). Create a new index to train again.");
        if (IsTrained)
        {
            options.Logger?.LogInformation("The {Kind} index is already trained; Train changed nothing. Create a new index to train it again.", Kind);
            return;
        }
        options.CancellationToken.ThrowIfCancellationRequested();
        TrainCore(vectors, rows, options);
    }

    /// <inheritdoc />
    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, IndexBuildOptions? options = null)
    {
        RequireWritable("added to");
        int rows = CheckVectors(vectors, nameof(vectors));
        if (ids.Length != rows)
            throw new ArgumentException($"Got {rows} vectors but {ids.Length} ids; give one id per vector.", nameof(ids));
        RequireTrained("vectors are added");
        long max = CheckIds(ids, nameof(ids));
        if (rows == 0) return;
        options ??= IndexBuildOptions.Default;
        options.CancellationToken.ThrowIfCancellationRequested();
        if (!options.ChunksAdds)
        {
            AddCore(vectors, ids, rows);
            RaiseNextId(max + 1);
            return;
        }
        int added = 0;
        AddInChunks(vectors, ids, rows, options, ref added);
    }

    /// <inheritdoc />
    public long Add(ReadOnlySpan<float> vectors, IndexBuildOptions? options = null)
    {
        RequireWritable("added to");
        int rows = CheckVectors(vectors, nameof(vectors));
        RequireTrained("vectors are added");
        options ??= IndexBuildOptions.Default;
        // Reserving the ids atomically lets adds with automatic ids run concurrently on indexes that allow concurrent adds.
        long first = ReserveIds(rows);
        long[] ids = ArrayPool<long>.Shared.Rent(rows);
        int added = 0;
        try
        {
            for (int i = 0; i < rows; i++) ids[i] = first + i;
            if (rows > 0)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                if (options.ChunksAdds)
                {
                    AddInChunks(vectors, ids.AsSpan(0, rows), rows, options, ref added);
                }
                else
                {
                    AddCore(vectors, ids.AsSpan(0, rows), rows);
                    added = rows;
                }
            }
            added = rows;
        }
        finally
        {
            // A failed or cancelled add gives back the ids it did not use, unless a later add reserved ids after them.
            if (added < rows) Interlocked.CompareExchange(ref _nextId, first + added, first + rows);
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
        RequireTrained("it is searched");
        if (rows == 0) return;
        if (Count == 0)
        {
            // An empty index is not an error: every neighbour is missing, as in Faiss.
            ids[..(int)needed].Fill(SearchResult.MissingId);
            distances[..(int)needed].Fill(float.NaN);
            return;
        }
        using var lease = LeaseMapping();
        SearchCore(queries, rows, k, ids[..(int)needed], distances[..(int)needed], options);
    }

    /// <inheritdoc />
    public RangeSearchResult RangeSearch(ReadOnlySpan<float> queries, float radius, SearchOptions? options = null)
    {
        int rows = CheckVectors(queries, nameof(queries));
        if (!float.IsFinite(radius))
            throw new ArgumentOutOfRangeException(nameof(radius), radius, "The radius must be a finite number.");
        options ??= SearchOptions.Default;
        options.ResolveThreads(1);
        RequireTrained("it is searched");
        if (rows == 0 || Count == 0)
            return new RangeSearchResult(new long[rows + 1], [], []);
        using var lease = LeaseMapping();
        return RangeSearchCore(queries, rows, radius, options);
    }

    /// <inheritdoc />
    public int Remove(ReadOnlySpan<long> ids)
    {
        RequireWritable("removed from");
        if (ids.IsEmpty) return 0;
        return RemoveCore(ids);
    }

    /// <inheritdoc />
    public void Reconstruct(long id, Span<float> destination)
    {
        CheckDestination(destination);
        if (Reconstruction == ReconstructionKind.None)
            throw new NotSupportedException($"The {Kind} index keeps no form of its vectors it could decode (Reconstruction is None); keep the vectors elsewhere, or use an index that can (Flat, HNSW, IVF, SQ, PQ, RFlat).");
        using var lease = LeaseMapping();
        ReconstructCore(id, destination);
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
        using var lease = LeaseMapping();
        IndexFileFormat.Write(stream, Kind, WritePayload);
    }

    /// <summary>Learns from training vectors; called only on an untrained, empty index. The default does nothing.</summary>
    /// <param name="vectors">Validated row-major vectors.</param>
    /// <param name="rows">Row count, at least one.</param>
    /// <param name="options">Progress, cancellation and logging.</param>
    protected virtual void TrainCore(ReadOnlySpan<float> vectors, int rows, IndexBuildOptions options) { }

    /// <summary>
    /// Adds validated vectors with ids from 0 to <see cref="long.MaxValue"/> − 1; must reject ids already present (or
    /// repeated in the batch) without changing the index. Indexes that allow concurrent adds call
    /// <see cref="RaiseNextId"/> under their own lock, so a concurrent save never sees rows past its next id.
    /// </summary>
    /// <param name="vectors">Validated row-major vectors.</param>
    /// <param name="ids">One id per row.</param>
    /// <param name="rows">Row count, at least one.</param>
    protected abstract void AddCore(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows);

    /// <summary>Searches a non-empty, trained index with validated arguments.</summary>
    /// <param name="queries">Validated row-major queries.</param>
    /// <param name="rows">Query count, at least one.</param>
    /// <param name="k">Positive.</param>
    /// <param name="ids">Exactly rows × k slots.</param>
    /// <param name="distances">Exactly rows × k slots.</param>
    /// <param name="options">Non-null options.</param>
    protected abstract void SearchCore(ReadOnlySpan<float> queries, int rows, int k, Span<long> ids, Span<float> distances, SearchOptions options);

    /// <summary>Range search on a non-empty, trained index with validated arguments.</summary>
    /// <param name="queries">Validated row-major queries.</param>
    /// <param name="rows">Query count, at least one.</param>
    /// <param name="radius">Finite radius or threshold.</param>
    /// <param name="options">Non-null options.</param>
    protected abstract RangeSearchResult RangeSearchCore(ReadOnlySpan<float> queries, int rows, float radius, SearchOptions options);

    /// <summary>Removes a non-empty list of ids all-or-nothing.</summary>
    /// <param name="ids">Ids to remove.</param>
    protected abstract int RemoveCore(ReadOnlySpan<long> ids);

    /// <summary>Writes the stored form of a vector; called only when <see cref="Reconstruction"/> is not <see cref="ReconstructionKind.None"/>.</summary>
    /// <param name="id">The id (throw <see cref="KeyNotFoundException"/> when it is not stored).</param>
    /// <param name="destination">Exactly <see cref="Dimension"/> values.</param>
    protected virtual void ReconstructCore(long id, Span<float> destination) =>
        throw new NotSupportedException($"The {Kind} index cannot reconstruct vectors.");

    /// <summary>Writes the index's parameters and data.</summary>
    /// <param name="writer">The payload writer.</param>
    protected abstract void WritePayload(IndexPayloadWriter writer);

    /// <summary>Lets a composite index (a transform, a refiner, an IVF coarse quantizer) nest this index's payload in its own.</summary>
    internal void WritePayloadTo(IndexPayloadWriter writer) => WritePayload(writer);

    /// <summary>Raises <see cref="NextId"/> to <paramref name="candidate"/> if it is below it, atomically (no lost update between concurrent adders).</summary>
    /// <param name="candidate">One past the largest id just added.</param>
    protected void RaiseNextId(long candidate)
    {
        long current = Volatile.Read(ref _nextId);
        while (current < candidate)
        {
            long seen = Interlocked.CompareExchange(ref _nextId, candidate, current);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>Checks that <paramref name="vectors"/> is whole rows of finite values small enough that squared distances stay finite (|x| ≤ √(float.MaxValue / (4·d))), and returns the row count.</summary>
    /// <param name="vectors">Row-major vectors.</param>
    /// <param name="parameterName">Named in the exception message.</param>
    protected int CheckVectors(ReadOnlySpan<float> vectors, string parameterName) =>
        VectorValidation.CheckRows(vectors, Dimension, parameterName);

    /// <summary>Checks that every id is from 0 to <see cref="long.MaxValue"/> − 1 and returns the largest (−1 for none).</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="parameterName">Named in the exception message.</param>
    private protected static long CheckIds(ReadOnlySpan<long> ids, string parameterName)
    {
        long max = -1;
        foreach (long id in ids)
        {
            if (id < 0) throw new ArgumentException($"Ids must be non-negative; got {id}.", parameterName);
            if (id == long.MaxValue)
                throw new ArgumentException($"Id {long.MaxValue} (long.MaxValue) is reserved so that the next automatic id, one past the largest id, always exists; use ids up to long.MaxValue − 1.", parameterName);
            max = Math.Max(max, id);
        }
        return max;
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

    /// <summary>For <see cref="Metric.Cosine"/>, rejects a zero row (it has no direction); does nothing for other metrics.</summary>
    /// <param name="rows">Row-major vectors.</param>
    /// <param name="parameterName">Named in the exception message.</param>
    protected void RejectZeroRows(ReadOnlySpan<float> rows, string parameterName)
    {
        if (Metric != Metric.Cosine) return;
        for (int r = 0; r < rows.Length / Dimension; r++)
            if (TensorPrimitives.Norm(rows.Slice(r * Dimension, Dimension)) == 0f)
                throw new ArgumentException($"Row {r} is the zero vector, which has no cosine similarity to anything.", parameterName);
    }

    /// <summary>Throws unless the index is trained; says what was attempted.</summary>
    /// <param name="when">What was attempted, for example "it is searched".</param>
    protected void RequireTrained(string when)
    {
        if (!IsTrained)
            throw new InvalidOperationException($"The {Kind} index must be trained before {when}; call Train first.");
    }

    private long ReserveIds(int rows)
    {
        while (true)
        {
            long first = Volatile.Read(ref _nextId);
            if (first > long.MaxValue - 1 - rows)
                throw new InvalidOperationException($"No automatic ids are left: the next id is {first}, and {rows} more would pass the largest id, long.MaxValue − 1. Pass your own ids.");
            if (Interlocked.CompareExchange(ref _nextId, first + rows, first) == first) return first;
        }
    }

    // Checks the whole batch first (so bad input still adds nothing), then inserts it chunk by chunk, checking the token
    // and reporting progress between chunks. `added` counts the rows of finished chunks for the caller's bookkeeping.
    private void AddInChunks(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int rows, IndexBuildOptions options, ref int added)
    {
        var seen = new HashSet<long>(rows);
        foreach (long id in ids)
        {
            if (!seen.Add(id)) throw new ArgumentException($"Id {id} appears twice in the batch; ids must be unique.", nameof(ids));
            if (Contains(id)) throw new ArgumentException($"Id {id} is already in the index; remove it first to replace its vector.", nameof(ids));
        }
        RejectZeroRows(vectors, nameof(vectors));
        int chunk = options.ChunkRows > 0 ? options.ChunkRows : DefaultChunkRows;
        for (int first = 0; first < rows; first += chunk)
        {
            if (first > 0 && options.CancellationToken.IsCancellationRequested)
                throw new OperationCanceledException($"The add was cancelled after {first} of {rows} rows; those rows stay in the index.", options.CancellationToken);
            int n = Math.Min(chunk, rows - first);
            ReadOnlySpan<long> chunkIds = ids.Slice(first, n);
            AddCore(vectors.Slice(first * Dimension, n * Dimension), chunkIds, n);
            long max = -1;
            foreach (long id in chunkIds) max = Math.Max(max, id);
            RaiseNextId(max + 1);
            added = first + n;
            options.Progress?.Report(new IndexProgress("add", first + n, rows));
        }
    }
}
