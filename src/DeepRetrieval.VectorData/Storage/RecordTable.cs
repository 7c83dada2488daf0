using System.Buffers;
using DeepRetrieval.Indexes;
using DeepRetrieval.VectorData.Scoring;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// The in-memory heart of a collection, independent of how it is persisted: the rows by internal id, the key → id map,
/// one index per vector column and one BM25 index per full-text column. A durable collection wraps it with a log and
/// snapshots; a sharded one can host one table per shard and persist the same batches elsewhere.
/// </summary>
/// <remarks>
/// <para>Concurrency: reads (<see cref="Get"/>, <see cref="Query"/>, <see cref="Search"/>, <see cref="HybridSearch"/>) may run
/// concurrently with each other and with one writer; the caller must serialise writers (prepare, apply, promote,
/// snapshot). Applying takes an exclusive lock for the time the indexes and maps change, so a read sees each batch
/// entirely or not at all. Rows are immutable, so results stay valid after the lock is released.</para>
/// <para>Ids are assigned in increasing order and never reused; an upsert of an existing key keeps its id.</para>
/// </remarks>
public sealed class RecordTable : IDisposable
{
    /// <summary>The constant of reciprocal rank fusion, as in Cormack et al. (2009) and Qdrant.</summary>
    public const int RrfK = 60;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<object, long> _idOfKey = new();
    private readonly VectorColumnIndex[] _vectorIndexes;
    private readonly FullTextIndex?[] _fullText;
    private readonly ILogger? _logger;
    private RecordRow?[] _rows = new RecordRow?[16];
    private int _count;

    /// <summary>Creates an empty table.</summary>
    /// <param name="schema">The record shape.</param>
    /// <param name="options">Training threshold, search parameters, logger; null for defaults.</param>
    /// <exception cref="NotSupportedException">A vector column's distance function or index kind is not supported.</exception>
    public RecordTable(RecordSchema schema, RecordTableOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        options ??= new RecordTableOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.TrainingThreshold);
        Schema = schema;
        _logger = options.Logger;
        _vectorIndexes = new VectorColumnIndex[schema.Vectors.Count];
        for (int c = 0; c < _vectorIndexes.Length; c++)
        {
            VectorColumn column = schema.Vectors[c];
            ScoreConvention convention = ScoreConvention.For(column.DistanceFunction);
            IndexPlan plan = IndexPlan.Resolve(column.IndexKind, column.Dimension, convention.Metric, options.SearchParameters);
            _vectorIndexes[c] = new VectorColumnIndex(column, convention, plan, options.TrainingThreshold);
        }
        _fullText = schema.Data.Select(d => d.IsFullTextIndexed ? new FullTextIndex() : null).ToArray();
    }

    /// <summary>The record shape.</summary>
    public RecordSchema Schema { get; }

    /// <summary>The number of records.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>One past the largest id ever assigned.</summary>
    public long NextId { get; private set; }

    /// <summary>The index serving a vector column (read it only while no writer runs).</summary>
    /// <param name="column">Position in <see cref="RecordSchema.Vectors"/>.</param>
    public IVectorIndex GetIndex(int column) => _vectorIndexes[column].Index;

    /// <summary>The score convention of a vector column.</summary>
    /// <param name="column">Position in <see cref="RecordSchema.Vectors"/>.</param>
    public ScoreConvention GetConvention(int column) => _vectorIndexes[column].Convention;

    #region Writes

    /// <summary>
    /// Validates rows against the schema and assigns ids, without changing the table. Keys repeated in the batch keep their
    /// last row. Nothing is written when any row is invalid.
    /// </summary>
    /// <param name="rows">The rows.</param>
    /// <exception cref="ArgumentException">A row does not fit the schema (key or value types, vector dimension, NaN or infinite
    /// components, a zero vector under a cosine distance function).</exception>
    public UpsertBatch PrepareUpsert(IReadOnlyList<RecordRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var last = new Dictionary<object, int>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            RecordRow row = rows[i] ?? throw new ArgumentException($"Row {i} is null.", nameof(rows));
            Validate(row);
            last[row.Key] = i;
        }
        var ids = new long[last.Count];
        var kept = new RecordRow[last.Count];
        long next = NextId;
        int n = 0;
        _lock.EnterReadLock();
        try
        {
            foreach (int i in last.Values.Order())
            {
                kept[n] = rows[i];
                ids[n++] = _idOfKey.TryGetValue(rows[i].Key, out long id) ? id : next++;
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        if (next > Array.MaxLength) throw new InvalidOperationException($"The collection has assigned {NextId} record ids, the most one table holds.");
        return new UpsertBatch(ids, kept, next);
    }

    /// <summary>The ids of the stored records among <paramref name="keys"/> (unknown keys are skipped).</summary>
    /// <param name="keys">Keys to delete.</param>
    public long[] PrepareDelete(IEnumerable<object> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ids = new HashSet<long>();
        _lock.EnterReadLock();
        try
        {
            foreach (object key in keys)
                if (key is not null && _idOfKey.TryGetValue(key, out long id)) ids.Add(id);
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return ids.Order().ToArray();
    }

    /// <summary>Applies a prepared (and, for a durable table, logged) upsert.</summary>
    /// <param name="batch">The batch from <see cref="PrepareUpsert"/> or a log.</param>
    public void Apply(UpsertBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _lock.EnterWriteLock();
        try
        {
            long needed = Math.Max(batch.NextId, NextId);
            if (needed > _rows.Length) Array.Resize(ref _rows, (int)Math.Min(Array.MaxLength, Math.Max(needed, (long)_rows.Length * 2)));
            var previous = new RecordRow?[batch.Ids.Count];
            for (int i = 0; i < previous.Length; i++) previous[i] = _rows[batch.Ids[i]];
            for (int c = 0; c < _vectorIndexes.Length; c++) ApplyVectors(c, batch, previous);
            for (int d = 0; d < _fullText.Length; d++)
            {
                if (_fullText[d] is not { } text) continue;
                for (int i = 0; i < previous.Length; i++)
                {
                    var before = (string?)previous[i]?.Values[d];
                    var after = (string?)batch.Rows[i].Values[d];
                    if (before == after && previous[i] is not null) continue;
                    if (before is not null) text.Remove(batch.Ids[i], before);
                    if (after is not null) text.Add(batch.Ids[i], after);
                }
            }
            for (int i = 0; i < previous.Length; i++)
            {
                long id = batch.Ids[i];
                RecordRow row = batch.Rows[i];
                if (previous[i] is null) _count++;
                _rows[id] = row;
                _idOfKey[row.Key] = id;
            }
            NextId = needed;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Removes the records with the given ids (ids not stored are ignored).</summary>
    /// <param name="ids">Ids from <see cref="PrepareDelete"/> or a log.</param>
    public void ApplyDelete(IReadOnlyList<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        _lock.EnterWriteLock();
        try
        {
            var removed = new List<(long Id, RecordRow Row)>();
            foreach (long id in ids)
                if (id >= 0 && id < _rows.Length && _rows[id] is { } row) removed.Add((id, row));
            for (int c = 0; c < _vectorIndexes.Length; c++)
            {
                long[] withVector = removed.Where(r => r.Row.Vectors[c] is not null).Select(r => r.Id).ToArray();
                _vectorIndexes[c].Apply(withVector, [], []);
            }
            for (int d = 0; d < _fullText.Length; d++)
                foreach (var (id, row) in removed)
                    if (_fullText[d] is { } index && row.Values[d] is string text) index.Remove(id, text);
            foreach (var (id, row) in removed)
            {
                _rows[id] = null;
                _idOfKey.Remove(row.Key);
                _count--;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Trains the target index of every column whose staging index has reached the training threshold and switches to it.
    /// Training runs outside the exclusive lock (searches keep using the staging index); only the switch takes it.
    /// </summary>
    /// <returns>True when any column switched.</returns>
    public bool PromoteDueIndexes()
    {
        bool any = false;
        for (int c = 0; c < _vectorIndexes.Length; c++)
        {
            VectorColumnIndex column = _vectorIndexes[c];
            if (!column.IsPromotionDue) continue;
            List<(long, float[])> vectors = VectorsOf(c);
            IVectorIndex? target = column.BuildPromoted(vectors, out string? failure);
            if (target is null)
            {
                _logger?.LogWarning("Vector column {Column}: training {Description} on {Count} vectors failed ({Failure}); it stays exact and retries when larger.",
                    column.Column.Name, column.Plan.Description, vectors.Count, failure);
                continue;
            }
            _lock.EnterWriteLock();
            try
            {
                column.Promote(target);
            }
            finally
            {
                _lock.ExitWriteLock();
            }
            _logger?.LogInformation("Vector column {Column}: trained {Kind} on {Count} vectors and switched from exact search to it.",
                column.Column.Name, target.Kind, vectors.Count);
            any = true;
        }
        return any;
    }

    /// <summary>
    /// Fills an empty table with rows read from a snapshot, without indexing their vectors (follow with
    /// <see cref="LoadIndex"/> or <see cref="RebuildIndex"/> for every vector column). Full-text indexes are rebuilt.
    /// </summary>
    /// <param name="nextId">One past the largest id ever assigned.</param>
    /// <param name="rows">The rows with their ids.</param>
    /// <exception cref="InvalidDataException">A row does not fit the schema, an id is out of range or a key repeats.</exception>
    public void LoadRows(long nextId, IReadOnlyList<(long Id, RecordRow Row)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (_count != 0 || NextId != 0) throw new InvalidOperationException("Rows can only be loaded into an empty table.");
        if (nextId < 0 || nextId > Array.MaxLength) throw new InvalidDataException($"Next record id {nextId} is out of range.");
        _rows = new RecordRow?[Math.Max(16, nextId)];
        foreach (var (id, row) in rows)
        {
            if (id < 0 || id >= nextId || _rows[id] is not null) throw new InvalidDataException($"Record id {id} is out of range or repeated.");
            try
            {
                Validate(row);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"A stored record does not fit the collection's schema: {e.Message}", e);
            }
            if (!_idOfKey.TryAdd(row.Key, id)) throw new InvalidDataException($"Key {row.Key} is stored twice.");
            _rows[id] = row;
            for (int d = 0; d < _fullText.Length; d++)
                if (_fullText[d] is { } text && row.Values[d] is string value) text.Add(id, value);
        }
        _count = rows.Count;
        NextId = nextId;
    }

    /// <summary>Replaces a column's index with one loaded from disk (before the table is shared).</summary>
    /// <param name="column">Position in <see cref="RecordSchema.Vectors"/>.</param>
    /// <param name="index">The loaded index.</param>
    /// <exception cref="InvalidDataException">The index does not fit the column or does not hold exactly the column's vectors.</exception>
    public void LoadIndex(int column, IVectorIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        long expected = 0;
        foreach (RecordRow? row in _rows)
            if (row?.Vectors[column] is not null) expected++;
        if (index.Count != expected)
            throw new InvalidDataException($"The index of vector column '{Schema.Vectors[column].Name}' holds {index.Count} vectors; the records hold {expected}.");
        _vectorIndexes[column].Load(index);
    }

    /// <summary>Rebuilds a column's index from the stored vectors (when its index file is missing).</summary>
    /// <param name="column">Position in <see cref="RecordSchema.Vectors"/>.</param>
    public void RebuildIndex(int column)
    {
        VectorColumnIndex state = _vectorIndexes[column];
        List<(long Id, float[] Vector)> vectors = VectorsOf(column);
        // A column that trains its index restarts on the exact staging index; the next PromoteDueIndexes trains it.
        state.Load(state.Plan.NeedsPromotion ? StagingWith(state, vectors) : TargetWith(state, vectors));
    }

    #endregion

    #region Reads

    /// <summary>The stored row of a key, or null.</summary>
    /// <param name="key">The key.</param>
    public RecordRow? Get(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _lock.EnterReadLock();
        try
        {
            return _idOfKey.TryGetValue(key, out long id) ? _rows[id] : null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// The records passing <paramref name="predicate"/>, ordered by <paramref name="orderBy"/> (then by insertion), after
    /// skipping <paramref name="skip"/>, at most <paramref name="top"/>.
    /// </summary>
    /// <param name="predicate">The filter, or null for all.</param>
    /// <param name="orderBy">Sort keys (the key column or single-value data columns), or empty for insertion order.</param>
    /// <param name="skip">Records to skip.</param>
    /// <param name="top">Records to return at most.</param>
    public List<RecordRow> Query(Func<RecordRow, bool>? predicate, IReadOnlyList<OrderByColumn> orderBy, int skip, int top)
    {
        ArgumentNullException.ThrowIfNull(orderBy);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        var accessors = orderBy.Select(ResolveOrderColumn).ToArray();
        var matches = new List<RecordRow>();
        long wanted = (long)skip + top;
        _lock.EnterReadLock();
        try
        {
            RecordRow?[] rows = _rows;
            for (long id = 0; id < NextId; id++)
            {
                if (rows[id] is not { } row || predicate is not null && !predicate(row)) continue;
                matches.Add(row);
                if (accessors.Length == 0 && matches.Count >= wanted) break;
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        IEnumerable<RecordRow> ordered = matches;
        if (accessors.Length > 0)
        {
            IOrderedEnumerable<RecordRow>? sorted = null;
            foreach (var (get, ascending) in accessors)
            {
                var comparer = Comparer<object?>.Create(CompareNullsFirst);
                sorted = sorted is null
                    ? ascending ? matches.OrderBy(get, comparer) : matches.OrderByDescending(get, comparer)
                    : ascending ? sorted.ThenBy(get, comparer) : sorted.ThenByDescending(get, comparer);
            }
            ordered = sorted!;
        }
        return ordered.Skip(skip).Take(top).ToList();
    }

    /// <summary>
    /// The nearest records to <paramref name="query"/> in a vector column, closest first, with scores in the column's
    /// convention. The filter is the index's pre-filter; when an approximate index returns fewer than
    /// <paramref name="top"/> + <paramref name="skip"/> hits (a selective filter, too few probes), the column is scanned exactly,
    /// so a short result always means fewer records match.
    /// </summary>
    /// <param name="column">Position in <see cref="RecordSchema.Vectors"/>.</param>
    /// <param name="query">The query vector.</param>
    /// <param name="top">Results to return at most.</param>
    /// <param name="skip">Closest results to skip.</param>
    /// <param name="predicate">The filter, or null.</param>
    /// <param name="scoreThreshold">Keep only scores at or better than this, or null.</param>
    /// <exception cref="ArgumentException">Wrong dimension, non-finite components, or a zero query under a cosine function.</exception>
    public List<ScoredRow> Search(int column, ReadOnlySpan<float> query, int top, int skip, Func<RecordRow, bool>? predicate, double? scoreThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        VectorColumnIndex state = _vectorIndexes[column];
        ValidateVector(state, query, "The search vector", nameof(query));
        int wanted = checked(top + skip);
        List<ScoredRow> hits;
        _lock.EnterReadLock();
        try
        {
            hits = SearchLocked(state, column, query, wanted, predicate);
        }
        finally
        {
            _lock.ExitReadLock();
        }
        var results = new List<ScoredRow>(Math.Min(top, hits.Count));
        for (int i = skip; i < hits.Count && results.Count < top; i++)
        {
            if (!state.Convention.Passes(hits[i].Score, scoreThreshold)) break;
            results.Add(hits[i]);
        }
        return results;
    }

    /// <summary>
    /// Hybrid search: the vector search and a BM25 keyword search over a full-text column, each taking its best
    /// max(20, 2 × (top + skip)) records that pass the filter, fused by reciprocal rank fusion (score Σ 1 / (60 + rank); tied
    /// scores share a rank). Scores are the fused values, highest first.
    /// </summary>
    /// <param name="column">Vector column.</param>
    /// <param name="query">The query vector.</param>
    /// <param name="keywords">Keywords (each tokenized as the text is).</param>
    /// <param name="textColumn">Position of a full-text indexed column in <see cref="RecordSchema.Data"/>.</param>
    /// <param name="top">Results to return at most.</param>
    /// <param name="skip">Best results to skip.</param>
    /// <param name="predicate">The filter, or null.</param>
    /// <param name="scoreThreshold">Keep only fused scores at or above this, or null.</param>
    public List<ScoredRow> HybridSearch(int column, ReadOnlySpan<float> query, IEnumerable<string> keywords, int textColumn, int top, int skip,
        Func<RecordRow, bool>? predicate, double? scoreThreshold)
    {
        ArgumentNullException.ThrowIfNull(keywords);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        FullTextIndex text = _fullText[textColumn] ?? throw new InvalidOperationException($"Data column '{Schema.Data[textColumn].Name}' is not full-text indexed.");
        VectorColumnIndex state = _vectorIndexes[column];
        ValidateVector(state, query, "The search vector", nameof(query));
        int depth = Math.Max(20, checked(2 * (top + skip)));
        string[] terms = keywords.SelectMany(k => FullTextIndex.Tokenize(k ?? "")).ToArray();
        var fused = new Dictionary<long, (RecordRow Row, double Score)>();
        _lock.EnterReadLock();
        try
        {
            List<ScoredRow> vectorHits = SearchLocked(state, column, query, depth, predicate);
            RecordRow?[] rows = _rows;
            Func<long, bool>? idFilter = predicate is null ? null : id => rows[id] is { } r && predicate(r);
            List<(long Id, double Score)> keywordHits = text.Search(terms, depth, idFilter);
            AddRanks(fused, vectorHits.Select(h => (IdOf(h.Row), h.Score)).ToList(), rows);
            AddRanks(fused, keywordHits, rows);
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return fused.OrderByDescending(p => p.Value.Score).ThenBy(p => p.Key)
            .Where(p => scoreThreshold is not { } t || p.Value.Score >= t)
            .Skip(skip).Take(top)
            .Select(p => new ScoredRow(p.Value.Row, p.Value.Score)).ToList();
    }

    /// <summary>Every stored record with its id, in id order (for snapshots). Call only while no writer runs.</summary>
    public IEnumerable<(long Id, RecordRow Row)> EnumerateRows()
    {
        RecordRow?[] rows = _rows;
        long next = NextId;
        for (long id = 0; id < next; id++)
            if (rows[id] is { } row) yield return (id, row);
    }

    #endregion

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();

    private long IdOf(RecordRow row) => _idOfKey[row.Key];

    private static void AddRanks(Dictionary<long, (RecordRow Row, double Score)> fused, List<(long Id, double Score)> ranked, RecordRow?[] rows)
    {
        int rank = 0;
        for (int i = 0; i < ranked.Count; i++)
        {
            if (i == 0 || ranked[i].Score != ranked[i - 1].Score) rank = i + 1; // competition ranking: ties share a rank
            double contribution = 1.0 / (RrfK + rank);
            long id = ranked[i].Id;
            fused[id] = fused.TryGetValue(id, out var current) ? (current.Row, current.Score + contribution) : (rows[id]!, contribution);
        }
    }

    private List<ScoredRow> SearchLocked(VectorColumnIndex state, int column, ReadOnlySpan<float> query, int wanted, Func<RecordRow, bool>? predicate)
    {
        IVectorIndex index = state.Index;
        long available = index.Count;
        if (available == 0) return [];
        int k = (int)Math.Min(wanted, available);
        RecordRow?[] rows = _rows;
        long[] ids = ArrayPool<long>.Shared.Rent(k);
        float[] values = ArrayPool<float>.Shared.Rent(k);
        try
        {
            var options = new SearchOptions
            {
                MaxDegreeOfParallelism = 1,
                Filter = predicate is null ? null : id => rows[id] is { } r && predicate(r),
            };
            index.Search(query, k, ids.AsSpan(0, k), values.AsSpan(0, k), options);
            var hits = new List<ScoredRow>(k);
            for (int i = 0; i < k && ids[i] != SearchResult.MissingId; i++)
                hits.Add(new ScoredRow(rows[ids[i]]!, state.Convention.FromIndexValue(values[i])));
            if (hits.Count < k && !state.IsExact) return ExactScan(state, column, query, k, predicate);
            return hits;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    // Every stored vector of the column that passes the filter, scored exactly: the answer when the approximate index came
    // back short. Ties are ordered by ascending id, as the indexes order them.
    private List<ScoredRow> ExactScan(VectorColumnIndex state, int column, ReadOnlySpan<float> query, int k, Func<RecordRow, bool>? predicate)
    {
        ScoreConvention convention = state.Convention;
        var worstFirst = new PriorityQueue<(long Id, RecordRow Row, double Score), (double Score, long Id)>(
            Comparer<(double Score, long Id)>.Create((a, b) =>
            {
                int byScore = convention.CompareCloserFirst(b.Score, a.Score);
                return byScore != 0 ? byScore : b.Id.CompareTo(a.Id);
            }));
        RecordRow?[] rows = _rows;
        for (long id = 0; id < NextId; id++)
        {
            if (rows[id] is not { } row || row.Vectors[column] is not { } vector || predicate is not null && !predicate(row)) continue;
            double score = convention.Score(query, vector);
            worstFirst.Enqueue((id, row, score), (score, id));
            if (worstFirst.Count > k) worstFirst.Dequeue();
        }
        var hits = new List<ScoredRow>(worstFirst.Count);
        while (worstFirst.TryDequeue(out var hit, out _)) hits.Add(new ScoredRow(hit.Row, hit.Score));
        hits.Reverse();
        return hits;
    }

    private void ApplyVectors(int c, UpsertBatch batch, RecordRow?[] previous)
    {
        var remove = new List<long>();
        var addIds = new List<long>();
        int dimension = Schema.Vectors[c].Dimension;
        for (int i = 0; i < previous.Length; i++)
        {
            float[]? before = previous[i]?.Vectors[c];
            float[]? after = batch.Rows[i].Vectors[c];
            bool same = before is not null && after is not null && before.AsSpan().SequenceEqual(after);
            if (same) continue; // a data-only update leaves the index alone
            if (before is not null) remove.Add(batch.Ids[i]);
            if (after is not null) addIds.Add(batch.Ids[i]);
        }
        if (remove.Count == 0 && addIds.Count == 0) return;
        var vectors = new float[(long)addIds.Count * dimension];
        for (int i = 0, n = 0; i < previous.Length; i++)
        {
            float[]? before = previous[i]?.Vectors[c];
            float[]? after = batch.Rows[i].Vectors[c];
            if (after is null || before is not null && before.AsSpan().SequenceEqual(after)) continue;
            after.CopyTo(vectors, (long)n++ * dimension);
        }
        _vectorIndexes[c].Apply(remove.ToArray(), vectors, addIds.ToArray());
    }

    private List<(long Id, float[] Vector)> VectorsOf(int column)
    {
        var vectors = new List<(long, float[])>();
        foreach (var (id, row) in EnumerateRows())
            if (row.Vectors[column] is { } v) vectors.Add((id, v));
        return vectors;
    }

    private static float[] Flatten(List<(long Id, float[] Vector)> vectors, int dimension)
    {
        var flat = new float[(long)vectors.Count * dimension];
        for (int i = 0; i < vectors.Count; i++) vectors[i].Vector.CopyTo(flat, (long)i * dimension);
        return flat;
    }

    private static IVectorIndex StagingWith(VectorColumnIndex state, List<(long Id, float[] Vector)> vectors)
    {
        IVectorIndex staging = state.Plan.CreateStaging();
        if (vectors.Count > 0) staging.Add(Flatten(vectors, state.Column.Dimension), vectors.Select(v => v.Id).ToArray());
        return staging;
    }

    private static IVectorIndex TargetWith(VectorColumnIndex state, List<(long Id, float[] Vector)> vectors)
    {
        IVectorIndex target = state.Plan.CreateTarget(vectors.Count);
        if (vectors.Count > 0) target.Add(Flatten(vectors, state.Column.Dimension), vectors.Select(v => v.Id).ToArray());
        return target;
    }

    private (Func<RecordRow, object?> Get, bool Ascending) ResolveOrderColumn(OrderByColumn order)
    {
        if (order.Column == Schema.Key.Name) return (r => r.Key, order.Ascending);
        int d = Schema.DataColumnIndex(order.Column);
        if (d < 0) throw new InvalidOperationException($"Cannot order by '{order.Column}': it is not the key or a data column.");
        if (Schema.Data[d].Type.Collection != CollectionKind.None)
            throw new NotSupportedException($"Cannot order by '{order.Column}': it holds a collection.");
        return (r => r.Values[d], order.Ascending);
    }

    private static int CompareNullsFirst(object? a, object? b) =>
        a is null ? (b is null ? 0 : -1) : b is null ? 1 : ScalarValues.Compare(a, b);

    private void Validate(RecordRow row)
    {
        if (ScalarValues.KindOf(row.Key) != Schema.Key.Kind)
            throw new ArgumentException($"Key {row.Key} is a {row.Key.GetType().Name}; the collection's keys are {ColumnType.ClrTypeOf(Schema.Key.Kind).Name}.");
        if (row.Values.Length != Schema.Data.Count || row.Vectors.Length != Schema.Vectors.Count)
            throw new ArgumentException($"Record {row.Key} has {row.Values.Length} data values and {row.Vectors.Length} vectors; the schema has {Schema.Data.Count} and {Schema.Vectors.Count}.");
        for (int d = 0; d < row.Values.Length; d++)
        {
            ColumnType type = Schema.Data[d].Type;
            object? value = row.Values[d];
            if (value is null)
            {
                if (!type.IsNullable) throw new ArgumentException($"Record {row.Key}: data column '{Schema.Data[d].Name}' is not nullable but holds null.");
                continue;
            }
            Type expected = type.Collection == CollectionKind.None ? type.ElementClrType : type.ElementClrType.MakeArrayType();
            if (value.GetType() != expected)
                throw new ArgumentException($"Record {row.Key}: data column '{Schema.Data[d].Name}' holds a {value.GetType().Name}; it stores {type}.");
        }
        for (int c = 0; c < row.Vectors.Length; c++)
            if (row.Vectors[c] is { } vector)
                ValidateVector(_vectorIndexes[c], vector, $"Record {row.Key}: vector '{Schema.Vectors[c].Name}'", "rows");
    }

    private static void ValidateVector(VectorColumnIndex state, ReadOnlySpan<float> vector, string what, string parameter)
    {
        int dimension = state.Column.Dimension;
        if (vector.Length != dimension)
            throw new ArgumentException($"{what} has {vector.Length} dimensions; the vector property '{state.Column.Name}' has {dimension}.", parameter);
        bool zero = true;
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
                throw new ArgumentException($"{what} has component {i} = {vector[i]}; vectors must be finite (no NaN or infinity).", parameter);
            zero &= vector[i] == 0;
        }
        if (zero && state.Convention.Metric == Metric.Cosine)
            throw new ArgumentException($"{what} is all zeros, which has no direction under {state.Convention.DistanceFunction}.", parameter);
    }
}
