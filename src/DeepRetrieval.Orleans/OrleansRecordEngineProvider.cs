using System.Runtime.CompilerServices;
using DeepRetrieval.Orleans.Grains;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.Orleans;

/// <summary>
/// The collections of a store kept in an Orleans cluster: sharded over <see cref="IVectorShardGrain"/> primaries with
/// <see cref="IVectorReplicaGrain"/> read replicas, listed by an <see cref="IVectorCatalogGrain"/>. Pass it to
/// <c>new DeepRetrievalVectorStore(provider)</c> and the Microsoft.Extensions.VectorData collection API (mapping, filters,
/// scores, embedding generation) runs over the cluster unchanged.
/// </summary>
/// <remarks>Works from a silo (co-hosted application) or a client: it only needs an <see cref="IGrainFactory"/>. Thread-safe.</remarks>
public sealed class OrleansRecordEngineProvider : IRecordEngineProvider
{
    private readonly IGrainFactory _grains;
    private readonly DeepRetrievalOrleansOptions _options;

    /// <summary>Creates the provider.</summary>
    /// <param name="grains">The cluster client, or a silo's grain factory.</param>
    /// <param name="options">Store name, shard and replica counts of new collections, read consistency; null for defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public OrleansRecordEngineProvider(IGrainFactory grains, DeepRetrievalOrleansOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        _grains = grains;
        _options = options?.Clone() ?? new DeepRetrievalOrleansOptions();
        _options.Validate();
    }

    /// <inheritdoc />
    public string StoreName => _options.StoreName;

    private IVectorCatalogGrain Catalog => _grains.GetGrain<IVectorCatalogGrain>(_options.StoreName);

    /// <inheritdoc />
    public async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return await CallAsync(() => Catalog.GetAsync(name)).ConfigureAwait(false) is not null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (string name in await CallAsync(() => Catalog.ListAsync()).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }
    }

    /// <inheritdoc />
    public async Task EnsureCollectionExistsAsync(string name, RecordSchema schema, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(schema);
        byte[] encoded = RecordCodec.EncodeSchema(schema);
        await CallAsync(() => Catalog.EnsureAsync(name, encoded, _options.ShardCount, _options.ReplicaCount)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return CallAsync(async () =>
        {
            await Catalog.DeleteAsync(name).ConfigureAwait(false);
            return true;
        });
    }

    /// <inheritdoc />
    public async Task<IRecordEngine?> OpenAsync(string name, RecordSchema schema, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(schema);
        CollectionDescriptor? collection = await CallAsync(() => Catalog.GetAsync(name)).ConfigureAwait(false);
        if (collection is null) return null;
        RecordSchema stored = RecordCodec.DecodeSchema(collection.Schema);
        if (stored.DescribeDifference(schema) is { } difference)
            throw new InvalidOperationException($"Collection '{name}' was created with a different record definition: {difference}.");
        return new OrleansRecordEngine(_grains, collection, stored, _options);
    }

    /// <summary>
    /// Splits one shard of a collection in two halves of its key-hash range, online: the records of the upper half move to a
    /// new shard (with its own replicas), writes to the shard wait while they are copied, and every handle routes with the
    /// new shard map from its next call on. See docs/orleans.md for the protocol.
    /// </summary>
    /// <param name="name">Collection name.</param>
    /// <param name="shard">The shard to split (0 … <c>ShardCount</c> − 1 at first).</param>
    /// <param name="cancellationToken">Cancellation (before the split starts).</param>
    /// <returns>The new shard's id.</returns>
    /// <exception cref="InvalidOperationException">The collection does not exist, or the shard cannot be split.</exception>
    /// <exception cref="ArgumentException">The collection has no such shard.</exception>
    public async Task<int> SplitShardAsync(string name, int shard, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        cancellationToken.ThrowIfCancellationRequested();
        CollectionDescriptor collection = await CallAsync(() => Catalog.SplitAsync(name, shard)).ConfigureAwait(false);
        return collection.ShardIds[Array.IndexOf(collection.ShardIds, shard) + 1];
    }

    /// <summary>The shards of a collection: their ids and hash ranges, in hash order (null when it does not exist).</summary>
    /// <param name="name">Collection name.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public async Task<IReadOnlyList<(int Shard, ulong RangeStart)>?> GetShardsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        CollectionDescriptor? collection = await CallAsync(() => Catalog.GetAsync(name)).ConfigureAwait(false);
        return collection?.ShardIds.Select((s, i) => (s, collection.RangeStarts[i])).ToList();
    }

    private async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (VectorRouterGrain.IsTransient(e) && e is not IOException)
        {
            throw new IOException($"The Orleans cluster did not answer the catalog of store '{StoreName}': {e.Message}", e);
        }
    }
}
