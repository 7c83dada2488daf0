using System.Diagnostics.Metrics;
using DeepRetrieval.Orleans.Grains;
using DeepRetrieval.Orleans.Serialization;
using DeepRetrieval.VectorData.Filtering;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Orleans;

/// <summary>
/// One collection over the cluster, as an <see cref="IRecordEngine"/> under <c>DeepRetrievalCollection</c>: rows are validated
/// here (a bad record throws and nothing is sent), then the router writes each to its shard's primary, or fans a read out
/// to every shard and merges. The handle remembers the log position each shard acknowledged its writes at, so that with
/// <see cref="ReadConsistency.Session"/> its reads see its own writes on any replica.
/// </summary>
internal sealed class OrleansRecordEngine : IRecordEngine
{
    private const int CallAttempts = 3;
    private const int RouterKeys = 64;
    private const int MapRefreshAttempts = 8;
    private static readonly Meter Meter = new("DeepRetrieval.Orleans");
    private static readonly Counter<long> PartialReads = Meter.CreateCounter<long>("deepretrieval.orleans.partial_reads", description: "Reads answered without one or more shards.");
    private readonly IVectorCatalogGrain _catalog;
    private volatile CollectionDescriptor _collection;
    private readonly IGrainFactory _grains;
    private readonly DeepRetrievalOrleansOptions _options;
    private readonly ILogger? _logger;
    private readonly RecordTable _validator;
    private readonly Dictionary<int, long> _acknowledged = [];
    private readonly Lock _sessionLock = new();
    private volatile bool _disposed;

    public OrleansRecordEngine(IGrainFactory grains, CollectionDescriptor collection, RecordSchema schema, DeepRetrievalOrleansOptions options)
    {
        _collection = collection;
        _catalog = grains.GetGrain<IVectorCatalogGrain>(options.StoreName);
        _grains = grains;
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger<OrleansRecordEngine>();
        Schema = schema;
        // An empty table of the schema validates rows exactly as the shards will (dimensions, finite values, zero vectors
        // under cosine, value types) before anything is sent.
        _validator = new RecordTable(schema);
    }

    public RecordSchema Schema { get; }

    /// <summary>The collection this engine serves.</summary>
    public CollectionDescriptor Collection => _collection;

    public async Task UpsertAsync(IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ThrowIfDisposed();
        if (rows.Count == 0) return;
        UpsertBatch batch = _validator.PrepareUpsert(rows);
        cancellationToken.ThrowIfCancellationRequested();
        byte[][] encoded = batch.Rows.Select(r => RecordCodec.EncodeRow(Schema, 0, r)).ToArray();
        object[] keys = batch.Rows.Select(r => r.Key).ToArray();
        Remember(await CallAsync("Upsert", () => Router.UpsertAsync(_collection, encoded, keys)).ConfigureAwait(false));
    }

    public async Task DeleteAsync(IReadOnlyList<object> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ThrowIfDisposed();
        if (keys.Count == 0) return;
        object[] checkedKeys = keys.Select(CheckKey).Distinct().ToArray();
        cancellationToken.ThrowIfCancellationRequested();
        Remember(await CallAsync("Delete", () => Router.DeleteAsync(_collection, checkedKeys)).ConfigureAwait(false));
    }

    public async Task<IReadOnlyList<RecordRow>> GetAsync(IReadOnlyList<object> keys, bool includeVectors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ThrowIfDisposed();
        if (keys.Count == 0) return [];
        object[] checkedKeys = keys.Select(CheckKey).ToArray();
        RoutedRows answer = await CallAsync("Get", () => Router.GetAsync(_collection, checkedKeys, includeVectors, Session())).ConfigureAwait(false);
        return Decode(answer, "Get");
    }

    public async Task<IReadOnlyList<RecordRow>> QueryAsync(FilterNode? filter, IReadOnlyList<OrderByColumn> orderBy, int skip, int top, bool includeVectors,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orderBy);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        ThrowIfDisposed();
        foreach (OrderByColumn order in orderBy)
        {
            int d = Schema.DataColumnIndex(order.Column);
            if (order.Column != Schema.Key.Name && d < 0) throw new InvalidOperationException($"Cannot order by '{order.Column}': it is not the key or a data column.");
            if (d >= 0 && Schema.Data[d].Type.Collection != CollectionKind.None) throw new NotSupportedException($"Cannot order by '{order.Column}': it holds a collection.");
        }
        var query = new ShardQuery
        {
            Filter = EncodeFilter(filter),
            OrderBy = orderBy.Select(o => o.Column).ToArray(),
            Ascending = orderBy.Select(o => o.Ascending).ToArray(),
            Count = checked(top + skip),
            IncludeVectors = includeVectors,
        };
        RoutedRows answer = await CallAsync("Query", () => Router.QueryAsync(_collection, query, skip, Session())).ConfigureAwait(false);
        return Decode(answer, "Query");
    }

    public Task<IReadOnlyList<ScoredRow>> SearchAsync(int vectorColumn, ReadOnlyMemory<float> query, int top, int skip, FilterNode? filter,
        double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken) =>
        SearchCoreAsync(vectorColumn, query, null, 0, top, skip, filter, scoreThreshold, includeVectors, "Search");

    public Task<IReadOnlyList<ScoredRow>> HybridSearchAsync(int vectorColumn, ReadOnlyMemory<float> query, IReadOnlyList<string> keywords, int textColumn,
        int top, int skip, FilterNode? filter, double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keywords);
        if ((uint)textColumn >= (uint)Schema.Data.Count || !Schema.Data[textColumn].IsFullTextIndexed)
            throw new InvalidOperationException($"Data column {textColumn} is not full-text indexed.");
        return SearchCoreAsync(vectorColumn, query, keywords.ToArray(), textColumn, top, skip, filter, scoreThreshold, includeVectors, "HybridSearch");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _validator.Dispose();
    }

    private async Task<IReadOnlyList<ScoredRow>> SearchCoreAsync(int vectorColumn, ReadOnlyMemory<float> query, string[]? keywords, int textColumn,
        int top, int skip, FilterNode? filter, double? scoreThreshold, bool includeVectors, string operation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ThrowIfDisposed();
        if ((uint)vectorColumn >= (uint)Schema.Vectors.Count)
            throw new ArgumentOutOfRangeException(nameof(vectorColumn), vectorColumn, $"The collection has {Schema.Vectors.Count} vector columns.");
        // The validator searches nothing (it is empty) but checks the query as a shard would: dimension, finite values, zero under cosine.
        _validator.Search(vectorColumn, query.Span, 1, 0, null, null);
        var search = new ShardSearch
        {
            Column = vectorColumn,
            Query = query.ToArray(),
            Count = checked(top + skip),
            Filter = EncodeFilter(filter),
            ScoreThreshold = scoreThreshold,
            IncludeVectors = includeVectors,
            Keywords = keywords,
            TextColumn = textColumn,
        };
        RoutedRows answer = await CallAsync(operation, () => Router.SearchAsync(_collection, search, skip, Session())).ConfigureAwait(false);
        IReadOnlyList<RecordRow> rows = Decode(answer, operation);
        var hits = new ScoredRow[rows.Count];
        for (int i = 0; i < hits.Length; i++) hits[i] = new ScoredRow(rows[i], answer.Scores[i]);
        return hits;
    }

    private byte[]? EncodeFilter(FilterNode? filter)
    {
        if (filter is null) return null;
        FilterCompiler.Compile(filter, Schema); // unknown columns and misused operators fail here, before the fan-out
        return FilterCodec.Encode(filter);
    }

    private object CheckKey(object key)
    {
        if (key is null) throw new ArgumentNullException(nameof(key), "A key is null.");
        if (ScalarValues.KindOf(key) != Schema.Key.Kind)
            throw new ArgumentException($"Key {key} is a {key.GetType().Name}; the collection's keys are {ColumnType.ClrTypeOf(Schema.Key.Kind).Name}.", nameof(key));
        return key;
    }

    private ReadSession Session()
    {
        lock (_sessionLock)
        {
            return new ReadSession
            {
                Consistency = _options.ReadConsistency,
                Shards = _acknowledged.Keys.ToArray(),
                Sequences = _acknowledged.Values.ToArray(),
                AllowPartialResults = _options.AllowPartialResults,
            };
        }
    }

    private void Remember(RoutedWrite write)
    {
        lock (_sessionLock)
        {
            for (int i = 0; i < write.Shards.Length; i++)
                if (!_acknowledged.TryGetValue(write.Shards[i], out long seen) || seen < write.Sequences[i]) _acknowledged[write.Shards[i]] = write.Sequences[i];
        }
    }

    private List<RecordRow> Decode(RoutedRows answer, string operation)
    {
        if (answer.MissingShards.Length > 0)
        {
            PartialReads.Add(1);
            _logger?.LogWarning("{Operation} on collection {Name} answered without shards {Shards}: their replica sets did not answer.",
                operation, _collection.Name, string.Join(", ", answer.MissingShards));
        }
        return answer.Rows.Select(r => RecordCodec.DecodeRow(Schema, r).Row).ToList();
    }

    // Calls spread over RouterKeys stateless-worker router ids: a client sends each grain id's calls through one gateway, so a
    // single id would put every call of this handle behind one silo, and a retry would meet the same dead gateway.
    private IVectorRouterGrain Router => _grains.GetGrain<IVectorRouterGrain>(Random.Shared.Next(RouterKeys));

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    // A call that failed on the way (the router's silo died, a connection dropped) is made again, at most
    // CallAttempts times: every operation is idempotent (upserts and deletes by key, reads). A call routed with a shard map
    // that a split made stale is routed again with the catalog's current map (the lambdas read _collection anew). Cluster failures then become
    // IOException (the collection reports them as VectorStoreException); a deleted collection becomes ObjectDisposedException
    // (the collection reopens once, then reports that it does not exist); argument and state errors pass through unchanged.
    private async Task<T> CallAsync<T>(string operation, Func<Task<T>> call)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (CollectionNotFoundException e)
            {
                throw new ObjectDisposedException($"Collection '{_collection.Name}' no longer exists.", e);
            }
            catch (ShardMapChangedException e) when (attempt < MapRefreshAttempts)
            {
                _logger?.LogDebug(e, "{Operation} on collection {Name}: the shard map changed; routing again.", operation, _collection.Name);
                CollectionDescriptor? current = await _catalog.GetAsync(_collection.Name).ConfigureAwait(false);
                if (current is null || current.Epoch != _collection.Epoch) throw new ObjectDisposedException($"Collection '{_collection.Name}' no longer exists.", e);
                _collection = current;
            }
            catch (Exception e) when (Grains.VectorRouterGrain.IsTransient(e) && e is not IOException && attempt < CallAttempts)
            {
                _logger?.LogDebug(e, "{Operation} on collection {Name} failed on the way (attempt {Attempt}); calling again.", operation, _collection.Name, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(100 << attempt)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ShardUnavailableException || Grains.VectorRouterGrain.IsTransient(e) && e is not IOException)
            {
                throw new IOException($"The Orleans cluster did not complete {operation} on collection '{_collection.Name}': {e.Message}", e);
            }
        }
    }
}
