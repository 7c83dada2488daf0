using System.Diagnostics.CodeAnalysis;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace DeepRetrieval.VectorData;

/// <summary>
/// The <c>Microsoft.Extensions.VectorData</c> vector store of DeepRetrieval: collections kept durably under a root folder (one
/// sub-folder each), searched through DeepRetrieval's indexes. Any code written against <see cref="VectorStore"/> runs on it.
/// </summary>
/// <remarks>Thread-safe. Collections are created by <see cref="VectorStoreCollection{TKey, TRecord}.EnsureCollectionExistsAsync"/>;
/// operating on one that does not exist throws <see cref="VectorStoreException"/>.</remarks>
public sealed class DeepRetrievalVectorStore : VectorStore
{
    private readonly IRecordEngineProvider _provider;
    private readonly DeepRetrievalVectorStoreOptions _options;
    private readonly VectorStoreMetadata _metadata;

    /// <summary>Creates a store over a root folder (created on first use).</summary>
    /// <param name="path">The root folder.</param>
    /// <param name="options">Embedding generator and storage settings; null for defaults.</param>
    public DeepRetrievalVectorStore(string path, DeepRetrievalVectorStoreOptions? options = null)
        : this(new FolderRecordEngineProvider(path, (options?.Storage ?? new DeepRetrievalStorageOptions()).ToEngineOptions()), options)
    {
    }

    /// <summary>Creates a store over any engine provider (a cluster, say); the collections, mapping and filters are the same.</summary>
    /// <param name="provider">Where the collections live.</param>
    /// <param name="options">Embedding generator; null for defaults (the storage settings belong to the provider).</param>
    public DeepRetrievalVectorStore(IRecordEngineProvider provider, DeepRetrievalVectorStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _provider = provider;
        _options = new DeepRetrievalVectorStoreOptions(options);
        _metadata = new VectorStoreMetadata { VectorStoreSystemName = DeepRetrievalCollection<object, object>.SystemName, VectorStoreName = provider.StoreName };
    }

    /// <inheritdoc />
    [RequiresDynamicCode("This collection maps records by reflection; use GetDynamicCollection for NativeAOT.")]
    [RequiresUnreferencedCode("This collection maps records by reflection; use GetDynamicCollection for trimmed applications.")]
    public override DeepRetrievalCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null)
    {
        if (typeof(TRecord) == typeof(Dictionary<string, object?>))
            throw new ArgumentException(VectorDataStrings.GetCollectionWithDictionaryNotSupported);
        return new DeepRetrievalCollection<TKey, TRecord>(_provider, name, CollectionOptions(definition), DeepRetrievalCollection<TKey, TRecord>.TypedModel);
    }

    /// <inheritdoc />
    public override DeepRetrievalDynamicCollection GetDynamicCollection(string name, VectorStoreCollectionDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new DeepRetrievalDynamicCollection(_provider, name, CollectionOptions(definition));
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<string> ListCollectionNamesAsync(CancellationToken cancellationToken = default) =>
        _provider.ListCollectionNamesAsync(cancellationToken);

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _provider.CollectionExistsAsync(name, cancellationToken);
    }

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _provider.EnsureCollectionDeletedAsync(name, cancellationToken);
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? _metadata
            : serviceType.IsInstanceOfType(_provider) ? _provider
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private DeepRetrievalCollectionOptions CollectionOptions(VectorStoreCollectionDefinition? definition) => new()
    {
        Definition = definition,
        EmbeddingGenerator = _options.EmbeddingGenerator,
        Storage = _options.Storage.Clone(),
    };
}
