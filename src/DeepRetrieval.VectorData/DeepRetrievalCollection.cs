using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using DeepRetrieval.VectorData.Filtering;
using DeepRetrieval.VectorData.Mapping;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace DeepRetrieval.VectorData;

/// <summary>
/// A collection of records searched through DeepRetrieval indexes and kept durably in a folder (or on any
/// <see cref="IRecordEngineProvider"/>): the <c>Microsoft.Extensions.VectorData</c> collection of this library.
/// </summary>
/// <typeparam name="TKey">The key type: <see cref="int"/>, <see cref="long"/>, <see cref="ulong"/>, <see cref="string"/> or <see cref="Guid"/> (Guid keys can be generated).</typeparam>
/// <typeparam name="TRecord">The record type, mapped by the abstraction's attributes or a record definition.</typeparam>
/// <remarks>
/// <para>Each vector property gets its own index, chosen by its <c>IndexKind</c> (Flat by default; Hnsw, IvfFlat, QuantizedFlat,
/// Dynamic, or any DeepRetrieval index description such as <c>HNSW32,SQ8</c>), compared by its distance function (cosine similarity
/// by default), and scored as the InMemory and Qdrant connectors score it (see <see cref="Scoring.ScoreConvention"/>).</para>
/// <para>Filters are translated once per call into a predicate that the index applies to each candidate (a pre-filter); when an
/// approximate index comes back with fewer hits than asked, the matching records are scanned exactly.</para>
/// <para>Thread-safe: searches and reads run concurrently with each other and with writes; writes are serialised and each is
/// atomic and durable when it returns. Handles to the same collection share one engine in a process.</para>
/// </remarks>
#pragma warning disable CA1711 // The abstraction's own naming: a VectorStoreCollection is a "Collection".
public class DeepRetrievalCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>, IKeywordHybridSearchable<TRecord>
#pragma warning restore CA1711
    where TKey : notnull
    where TRecord : class
{
    /// <summary>The system name reported in metadata and exceptions.</summary>
    public const string SystemName = "deepretrieval";

    private static readonly VectorSearchOptions<TRecord> DefaultSearchOptions = new();
    private static readonly HybridSearchOptions<TRecord> DefaultHybridOptions = new();
    private readonly IRecordEngineProvider _provider;
    private readonly CollectionModel _model;
    private readonly RecordSchema _schema;
    private readonly RecordMapper<TRecord> _mapper;
    private readonly VectorStoreCollectionMetadata _metadata;
    private readonly SemaphoreSlim _engineGate = new(1, 1);
    private IRecordEngine? _engine;

    /// <summary>Creates a handle to a collection kept under <paramref name="path"/> (the store's root folder).</summary>
    /// <param name="path">The root folder; the collection lives in a sub-folder named after it.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="options">Record definition, embedding generator and storage settings; null for defaults.</param>
    /// <exception cref="NotSupportedException">A key, data or vector property type, a distance function or an index kind is not supported.</exception>
    /// <exception cref="InvalidOperationException">The record type and the definition disagree, or <typeparamref name="TKey"/> is not the key property's type.</exception>
    [RequiresDynamicCode("This collection maps records by reflection; use DeepRetrievalDynamicCollection for NativeAOT.")]
    [RequiresUnreferencedCode("This collection maps records by reflection; use DeepRetrievalDynamicCollection for trimmed applications.")]
    public DeepRetrievalCollection(string path, string name, DeepRetrievalCollectionOptions? options = null)
        : this(new FolderRecordEngineProvider(path, (options?.Storage ?? new DeepRetrievalStorageOptions()).ToEngineOptions()), name, options, TypedModel)
    {
    }

    internal DeepRetrievalCollection(IRecordEngineProvider provider, string name, DeepRetrievalCollectionOptions? options, Func<DeepRetrievalCollectionOptions, CollectionModel> modelFactory)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options ??= new DeepRetrievalCollectionOptions();
        _provider = provider;
        Name = name;
        _model = modelFactory(options);
        _schema = SchemaFactory.FromModel(_model);
        _mapper = new RecordMapper<TRecord>(_model, _schema);
        _metadata = new VectorStoreCollectionMetadata { VectorStoreSystemName = SystemName, VectorStoreName = provider.StoreName, CollectionName = name };
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The public constructor that reaches this carries RequiresUnreferencedCode.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "The public constructor that reaches this carries RequiresDynamicCode.")]
    internal static CollectionModel TypedModel(DeepRetrievalCollectionOptions options) =>
        typeof(TRecord) == typeof(Dictionary<string, object?>)
            ? throw new NotSupportedException(VectorDataStrings.NonDynamicCollectionWithDictionaryNotSupported(typeof(DeepRetrievalDynamicCollection)))
            : new DeepRetrievalModelBuilder().Build(typeof(TRecord), typeof(TKey), options.Definition, options.EmbeddingGenerator);

    /// <inheritdoc />
    public override string Name { get; }

    /// <summary>The stored shape of the records (storage names, types, vector columns).</summary>
    public RecordSchema Schema => _schema;

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Run("CollectionExists", () => _provider.CollectionExistsAsync(Name, cancellationToken));

    /// <inheritdoc />
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Run("EnsureCollectionExists", async () =>
        {
            await _provider.EnsureCollectionExistsAsync(Name, _schema, cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) =>
        Run("EnsureCollectionDeleted", async () =>
        {
            await ReleaseEngineAsync().ConfigureAwait(false);
            await _provider.EnsureCollectionDeletedAsync(Name, cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc />
    public override async Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        bool includeVectors = CheckIncludeVectors(options?.IncludeVectors ?? false);
        object storedKey = StoredKey(key, nameof(key));
        IReadOnlyList<RecordRow> rows = await WithEngine("Get", e => e.GetAsync([storedKey], includeVectors, cancellationToken)).ConfigureAwait(false);
        return rows.Count == 0 ? null : _mapper.ToRecord(rows[0], includeVectors);
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<TRecord> GetAsync(IEnumerable<TKey> keys, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        bool includeVectors = CheckIncludeVectors(options?.IncludeVectors ?? false);
        object[] storedKeys = keys.Select(k => StoredKey(k, nameof(keys))).ToArray();
        return GetManyAsync(storedKeys, includeVectors, cancellationToken);
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<TRecord> GetAsync(Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        bool includeVectors = CheckIncludeVectors(options.IncludeVectors);
        FilterNode node = new FilterTranslator().Translate(filter, _model);
        var orderBy = (options.OrderBy?.Invoke(new()).Values ?? [])
            .Select(s => new OrderByColumn(_model.GetDataOrKeyProperty(s.PropertySelector).StorageName, s.Ascending))
            .ToList();
        return QueryCoreAsync(node, orderBy, options.Skip, top, includeVectors, cancellationToken);
    }

    /// <inheritdoc />
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        object storedKey = StoredKey(key, nameof(key));
        return WithEngine("Delete", async e =>
        {
            await e.DeleteAsync([storedKey], cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    /// <summary>Deletes a batch of records atomically: when this completes every listed record is gone; when it throws, none is.</summary>
    /// <param name="keys">The keys; unknown keys are ignored.</param>
    /// <param name="cancellationToken">Honoured until the write starts.</param>
    public override Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        object[] storedKeys = keys.Select(k => StoredKey(k, nameof(keys))).ToArray();
        if (storedKeys.Length == 0) return Task.CompletedTask;
        return WithEngine("Delete", async e =>
        {
            await e.DeleteAsync(storedKeys, cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    /// <inheritdoc />
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return UpsertAsync([record], cancellationToken);
    }

    /// <summary>
    /// Inserts or replaces a batch of records atomically: when this completes every record is durable (see
    /// <see cref="DurabilityMode"/>); when it throws, none was written. Embeddings are generated once for the batch.
    /// </summary>
    /// <param name="records">The records; a key repeated in the batch keeps its last record.</param>
    /// <param name="cancellationToken">Honoured until the write starts.</param>
    /// <exception cref="ArgumentException">A record does not fit (null key, wrong vector dimension, NaN, a zero vector under cosine …); nothing is written.</exception>
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        IReadOnlyList<TRecord> list = records as IReadOnlyList<TRecord> ?? records.ToList();
        if (list.Count == 0) return;
        ReadOnlyMemory<float>?[][]? generated = await GenerateEmbeddingsAsync(list, cancellationToken).ConfigureAwait(false);
        KeyPropertyModel keyProperty = _model.KeyProperty;
        var rows = new RecordRow[list.Count];
        var newKeys = new Guid?[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            TRecord record = list[i] ?? throw new ArgumentException($"Record {i} of the batch is null.", nameof(records));
            object? key = keyProperty.GetValueAsObject(record);
            if (keyProperty.IsAutoGenerated && key is Guid g && g == Guid.Empty) key = newKeys[i] = Guid.NewGuid();
            if (key is null) throw new ArgumentException($"Record {i} of the batch has a null key ('{keyProperty.ModelName}').", nameof(records));
            rows[i] = _mapper.ToRow(record, StoredKey(key, nameof(records)), generated?[i]);
        }
        await WithEngine("Upsert", async e =>
        {
            await e.UpsertAsync(rows, cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        // Generated keys reach the application's records only once the batch is stored.
        for (int i = 0; i < list.Count; i++)
            if (newKeys[i] is { } generatedKey) keyProperty.SetValueAsObject(list[i], generatedKey);
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= DefaultSearchOptions;
        bool includeVectors = CheckIncludeVectors(options.IncludeVectors);
        VectorPropertyModel vectorProperty = _model.GetVectorPropertyOrSingle(options);
        FilterNode? filter = options.Filter is null ? null : new FilterTranslator().Translate(options.Filter, _model);
        return SearchCoreAsync(searchValue, vectorProperty, top, options.Skip, filter, options.ScoreThreshold, includeVectors, cancellationToken);
    }

    /// <summary>
    /// Hybrid search: the vector search and a BM25 keyword search over a full-text indexed string property, fused by reciprocal
    /// rank fusion (each side takes its best max(20, 2 × (top + skip)) records that pass the filter; a record scores
    /// Σ 1 / (60 + rank)). Scores are the fused values, highest first.
    /// </summary>
    /// <typeparam name="TInput">The search value's type: a vector, or an input the property's embedding generator accepts.</typeparam>
    /// <param name="searchValue">The vector, or the text or data to embed.</param>
    /// <param name="keywords">Keywords, split into terms as the text is (lower-case, at non-letters and non-digits).</param>
    /// <param name="top">Results to return at most.</param>
    /// <param name="options">Filter, vector and text properties, skip, score threshold, vectors.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public IAsyncEnumerable<VectorSearchResult<TRecord>> HybridSearchAsync<TInput>(TInput searchValue, ICollection<string> keywords, int top,
        HybridSearchOptions<TRecord>? options = null, CancellationToken cancellationToken = default)
        where TInput : notnull
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentNullException.ThrowIfNull(keywords);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= DefaultHybridOptions;
        bool includeVectors = CheckIncludeVectors(options.IncludeVectors);
        VectorPropertyModel vectorProperty = _model.GetVectorPropertyOrSingle(new VectorSearchOptions<TRecord> { VectorProperty = options.VectorProperty });
        DataPropertyModel textProperty = _model.GetFullTextDataPropertyOrSingle(options.AdditionalProperty);
        FilterNode? filter = options.Filter is null ? null : new FilterTranslator().Translate(options.Filter, _model);
        return HybridCoreAsync(searchValue, keywords.ToArray(), vectorProperty, textProperty, top, options.Skip, filter, options.ScoreThreshold, includeVectors, cancellationToken);
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? _metadata
            : serviceType == typeof(RecordSchema) ? _schema
            : serviceType.IsInstanceOfType(_provider) ? _provider
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _engineGate.Wait();
            try
            {
                _engine?.Dispose();
                _engine = null;
            }
            finally
            {
                _engineGate.Release();
            }
        }
        base.Dispose(disposing);
    }

    private async IAsyncEnumerable<TRecord> GetManyAsync(object[] keys, bool includeVectors, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (keys.Length == 0) yield break;
        IReadOnlyList<RecordRow> rows = await WithEngine("Get", e => e.GetAsync(keys, includeVectors, cancellationToken)).ConfigureAwait(false);
        foreach (RecordRow row in rows) yield return _mapper.ToRecord(row, includeVectors);
    }

    private async IAsyncEnumerable<TRecord> QueryCoreAsync(FilterNode filter, List<OrderByColumn> orderBy, int skip, int top, bool includeVectors,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IReadOnlyList<RecordRow> rows = await WithEngine("Query", e => e.QueryAsync(filter, orderBy, skip, top, includeVectors, cancellationToken)).ConfigureAwait(false);
        foreach (RecordRow row in rows) yield return _mapper.ToRecord(row, includeVectors);
    }

    private async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchCoreAsync<TInput>(TInput searchValue, VectorPropertyModel vectorProperty, int top, int skip,
        FilterNode? filter, double? scoreThreshold, bool includeVectors, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TInput : notnull
    {
        ReadOnlyMemory<float> query = await QueryVectorAsync(searchValue, vectorProperty, cancellationToken).ConfigureAwait(false);
        int column = _schema.VectorColumnIndex(vectorProperty.StorageName);
        IReadOnlyList<ScoredRow> hits = await WithEngine("Search",
            e => e.SearchAsync(column, query, top, skip, filter, scoreThreshold, includeVectors, cancellationToken)).ConfigureAwait(false);
        foreach (ScoredRow hit in hits) yield return new VectorSearchResult<TRecord>(_mapper.ToRecord(hit.Row, includeVectors), hit.Score);
    }

    private async IAsyncEnumerable<VectorSearchResult<TRecord>> HybridCoreAsync<TInput>(TInput searchValue, string[] keywords, VectorPropertyModel vectorProperty,
        DataPropertyModel textProperty, int top, int skip, FilterNode? filter, double? scoreThreshold, bool includeVectors,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TInput : notnull
    {
        ReadOnlyMemory<float> query = await QueryVectorAsync(searchValue, vectorProperty, cancellationToken).ConfigureAwait(false);
        int column = _schema.VectorColumnIndex(vectorProperty.StorageName);
        int textColumn = _schema.DataColumnIndex(textProperty.StorageName);
        IReadOnlyList<ScoredRow> hits = await WithEngine("HybridSearch",
            e => e.HybridSearchAsync(column, query, keywords, textColumn, top, skip, filter, scoreThreshold, includeVectors, cancellationToken)).ConfigureAwait(false);
        foreach (ScoredRow hit in hits) yield return new VectorSearchResult<TRecord>(_mapper.ToRecord(hit.Row, includeVectors), hit.Score);
    }

    private static async ValueTask<ReadOnlyMemory<float>> QueryVectorAsync<TInput>(TInput searchValue, VectorPropertyModel vectorProperty, CancellationToken cancellationToken)
        where TInput : notnull => searchValue switch
        {
            ReadOnlyMemory<float> memory => memory,
            float[] array => array,
            Embedding<float> embedding => embedding.Vector,
            _ when vectorProperty.EmbeddingGenerationDispatcher is not null
                => ((Embedding<float>)await vectorProperty.GenerateEmbeddingAsync(searchValue, cancellationToken).ConfigureAwait(false)).Vector,
            _ => vectorProperty.EmbeddingGenerator is null
                ? throw new NotSupportedException(VectorDataStrings.InvalidSearchInputAndNoEmbeddingGeneratorWasConfigured(searchValue.GetType(), DeepRetrievalModelBuilder.SupportedVectorTypes))
                : throw new InvalidOperationException(VectorDataStrings.IncompatibleEmbeddingGeneratorWasConfiguredForInputType(typeof(TInput), vectorProperty.EmbeddingGenerator.GetType())),
        };

    // One generation call per property for the whole batch; records whose input is null get no vector.
    private async Task<ReadOnlyMemory<float>?[][]?> GenerateEmbeddingsAsync(IReadOnlyList<TRecord> records, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<float>?[][]? generated = null;
        for (int p = 0; p < _model.VectorProperties.Count; p++)
        {
            VectorPropertyModel property = _model.VectorProperties[p];
            if (DeepRetrievalModelBuilder.IsNativeVectorType(property.Type)) continue;
            generated ??= records.Select(_ => new ReadOnlyMemory<float>?[_model.VectorProperties.Count]).ToArray();
            var positions = new List<int>();
            var inputs = new List<object?>();
            for (int i = 0; i < records.Count; i++)
            {
                if (records[i] is null) continue;
                object? input = property.GetValueAsObject(records[i]);
                if (input is null) continue;
                positions.Add(i);
                inputs.Add(input);
            }
            if (inputs.Count == 0) continue;
            IReadOnlyList<Embedding> embeddings = await property.GenerateEmbeddingsAsync(inputs, cancellationToken).ConfigureAwait(false);
            if (embeddings.Count != inputs.Count)
                throw new InvalidOperationException($"The embedding generator of '{property.ModelName}' returned {embeddings.Count} embeddings for {inputs.Count} inputs.");
            for (int j = 0; j < positions.Count; j++)
                generated[positions[j]][p] = embeddings[j] is Embedding<float> e
                    ? e.Vector
                    : throw new InvalidOperationException($"The embedding generator of '{property.ModelName}' returned a {embeddings[j].GetType().Name}; this store stores Embedding<float>.");
        }
        return generated;
    }

    private bool CheckIncludeVectors(bool includeVectors)
    {
        if (includeVectors && _model.EmbeddingGenerationRequired)
            throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration);
        return includeVectors;
    }

    private object StoredKey(object? key, string parameterName)
    {
        if (key is null) throw new ArgumentNullException(parameterName, "A key is null.");
        Type expected = ColumnType.ClrTypeOf(_schema.Key.Kind);
        if (key.GetType() != expected)
            throw new ArgumentException($"Key {key} is a {key.GetType().Name}; the collection '{Name}' has {expected.Name} keys.", parameterName);
        return key;
    }

    // Runs an operation on the collection's engine, opening it on first use and again after the collection was deleted and
    // re-created by another handle. Storage failures become VectorStoreException, as in every connector.
    private async Task<T> WithEngine<T>(string operation, Func<IRecordEngine, Task<T>> action)
    {
        for (int attempt = 0; ; attempt++)
        {
            IRecordEngine engine = await Run(operation, AcquireEngineAsync).ConfigureAwait(false);
            try
            {
                return await Run(operation, () => action(engine)).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) when (attempt == 0)
            {
                await ReleaseEngineAsync(engine).ConfigureAwait(false);
            }
            catch (ObjectDisposedException e)
            {
                throw new VectorStoreException($"Collection '{Name}' does not exist (it was deleted).", e) { VectorStoreSystemName = SystemName, VectorStoreName = _provider.StoreName, CollectionName = Name, OperationName = operation };
            }
        }
    }

    private async Task<IRecordEngine> AcquireEngineAsync()
    {
        await _engineGate.WaitAsync().ConfigureAwait(false);
        try
        {
            return _engine ??= await _provider.OpenAsync(Name, _schema, CancellationToken.None).ConfigureAwait(false)
                ?? throw new VectorStoreException($"Collection '{Name}' does not exist; call EnsureCollectionExistsAsync first.")
                {
                    VectorStoreSystemName = SystemName, VectorStoreName = _provider.StoreName, CollectionName = Name,
                };
        }
        finally
        {
            _engineGate.Release();
        }
    }

    private async Task ReleaseEngineAsync(IRecordEngine? only = null)
    {
        await _engineGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_engine is null || only is not null && !ReferenceEquals(_engine, only)) return;
            _engine.Dispose();
            _engine = null;
        }
        finally
        {
            _engineGate.Release();
        }
    }

    private async Task<T> Run<T>(string operation, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new VectorStoreException($"Call to the DeepRetrieval vector store failed: {e.Message}", e)
            {
                VectorStoreSystemName = SystemName, VectorStoreName = _provider.StoreName, CollectionName = Name, OperationName = operation,
            };
        }
    }
}
