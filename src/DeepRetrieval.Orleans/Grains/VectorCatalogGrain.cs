using DeepRetrieval.Orleans.Routing;
using DeepRetrieval.Orleans.Storage;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// The catalog of one store (see <see cref="IVectorCatalogGrain"/>), persisted as one record in grain storage. Creating a
/// collection records it as <see cref="CatalogEntryState.Creating"/>, initialises every shard, then marks it ready; deleting
/// marks it <see cref="CatalogEntryState.Deleting"/>, drops every shard, then removes it. Either finishes on a retry after a
/// failure, and a collection is visible only when ready.
/// </summary>
public sealed class VectorCatalogGrain : Grain, IVectorCatalogGrain
{
    private const string RecordName = "catalog";
    private readonly DeepRetrievalShardOptions _options;
    private readonly ILogger<VectorCatalogGrain> _logger;
    private GrainRecordStore _store = null!;
    private CatalogState _state = new();
    private string? _etag;

    /// <summary>Creates the grain (Orleans activates it).</summary>
    /// <param name="options">Silo settings.</param>
    /// <param name="logger">Logger.</param>
    public VectorCatalogGrain(IOptions<DeepRetrievalShardOptions> options, ILogger<VectorCatalogGrain> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        IGrainStorage storage = ServiceProvider.GetKeyedService<IGrainStorage>(_options.StorageProviderName)
            ?? throw new InvalidOperationException(
                $"No Orleans grain storage named '{_options.StorageProviderName}' is registered on this silo; register one under that name or set DeepRetrievalShardOptions.StorageProviderName.");
        _store = new GrainRecordStore(storage, GrainId.Create("deepretrieval.catalog", this.GetPrimaryKeyString()));
        var (state, etag, exists) = await _store.ReadAsync<CatalogState>(RecordName).ConfigureAwait(true);
        _state = exists ? state! : new CatalogState();
        _etag = etag;
        await base.OnActivateAsync(cancellationToken).ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task<CollectionDescriptor?> GetAsync(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_state.Collections.TryGetValue(name, out CatalogEntry? entry) || entry.State != CatalogEntryState.Ready) return null;
        if (entry.PendingSplit >= 0) await FinishSplitAsync(entry).ConfigureAwait(true);
        return entry.Descriptor;
    }

    /// <inheritdoc />
    public async Task<CollectionDescriptor> SplitAsync(string name, int shard)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_state.Collections.TryGetValue(name, out CatalogEntry? entry) || entry.State != CatalogEntryState.Ready)
            throw new InvalidOperationException($"Collection '{name}' does not exist.");
        if (entry.PendingSplit >= 0) await FinishSplitAsync(entry).ConfigureAwait(true);
        var (start, end) = entry.Descriptor.RangeOf(shard);
        if (Width(start, end) < 2) throw new InvalidOperationException($"Shard {shard} of collection '{name}' owns a single hash; it cannot be split.");
        entry.PendingSplit = shard;
        await SaveAsync().ConfigureAwait(true);
        await FinishSplitAsync(entry).ConfigureAwait(true);
        return entry.Descriptor;
    }

    /// <inheritdoc />
    public Task<string[]> ListAsync() => Task.FromResult(_state.Collections
        .Where(p => p.Value.State == CatalogEntryState.Ready)
        .Select(p => p.Key)
        .Order(StringComparer.Ordinal)
        .ToArray());

    /// <inheritdoc />
    public async Task<CollectionDescriptor> EnsureAsync(string name, byte[] schema, int shardCount, int replicaCount)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(schema);
        if (shardCount is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(shardCount), shardCount, "A collection has 1 to 4,096 shards.");
        if (replicaCount is < 0 or > 16) throw new ArgumentOutOfRangeException(nameof(replicaCount), replicaCount, "A shard has 0 to 16 read replicas.");
        RecordSchema requested = RecordCodec.DecodeSchema(schema);
        if (_state.Collections.TryGetValue(name, out CatalogEntry? entry))
        {
            if (entry.State == CatalogEntryState.Deleting)
            {
                await FinishDeleteAsync(name, entry).ConfigureAwait(true);
            }
            else
            {
                RecordSchema stored = RecordCodec.DecodeSchema(entry.Descriptor.Schema);
                if (stored.DescribeDifference(requested) is { } difference)
                    throw new InvalidOperationException($"Collection '{name}' was created with a different record definition: {difference}.");
                if (entry.State == CatalogEntryState.Creating) await FinishCreateAsync(entry).ConfigureAwait(true);
                return entry.Descriptor;
            }
        }
        ShardMap map = ShardMap.Uniform(shardCount);
        entry = new CatalogEntry
        {
            Descriptor = new CollectionDescriptor
            {
                Name = name,
                Epoch = Guid.NewGuid(),
                Schema = schema,
                ReplicaCount = replicaCount,
                RangeStarts = map.Starts.ToArray(),
                ShardIds = map.Shards.ToArray(),
            },
            State = CatalogEntryState.Creating,
        };
        _state.Collections[name] = entry;
        await SaveAsync().ConfigureAwait(true);
        await FinishCreateAsync(entry).ConfigureAwait(true);
        _logger.LogInformation("Collection {Name}: created with {Shards} shards and {Replicas} replicas each (incarnation {Epoch}).",
            name, shardCount, replicaCount, entry.Descriptor.Epoch);
        return entry.Descriptor;
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_state.Collections.TryGetValue(name, out CatalogEntry? entry)) return;
        if (entry.State != CatalogEntryState.Deleting)
        {
            entry.State = CatalogEntryState.Deleting;
            await SaveAsync().ConfigureAwait(true);
        }
        await FinishDeleteAsync(name, entry).ConfigureAwait(true);
    }

    private async Task FinishCreateAsync(CatalogEntry entry)
    {
        CollectionDescriptor collection = entry.Descriptor;
        await Task.WhenAll(collection.ShardIds.Select(s => GrainFactory.GetGrain<IVectorShardGrain>(collection.ShardKey(s)).InitializeAsync(collection))).ConfigureAwait(true);
        entry.State = CatalogEntryState.Ready;
        await SaveAsync().ConfigureAwait(true);
    }

    private async Task FinishDeleteAsync(string name, CatalogEntry entry)
    {
        CollectionDescriptor collection = entry.Descriptor;
        await Task.WhenAll(collection.ShardIds.Select(s => GrainFactory.GetGrain<IVectorShardGrain>(collection.ShardKey(s)).DropAsync())).ConfigureAwait(true);
        _state.Collections.Remove(name);
        await SaveAsync().ConfigureAwait(true);
        _logger.LogInformation("Collection {Name}: deleted (incarnation {Epoch}).", name, collection.Epoch);
    }

    // Splits the pending shard at the middle of its range into a new shard numbered after the largest, then publishes the
    // map with one more version and the split shard's floor. The shard's split is idempotent, so repeating this after a
    // failure is safe.
    private async Task FinishSplitAsync(CatalogEntry entry)
    {
        CollectionDescriptor collection = entry.Descriptor;
        int shard = entry.PendingSplit;
        var (start, end) = collection.RangeOf(shard);
        ulong middle = (ulong)(start + Width(start, end) / 2);
        int child = collection.ShardIds.Max() + 1;
        long version = collection.MapVersion + 1;
        long floor = await GrainFactory.GetGrain<IVectorShardGrain>(collection.ShardKey(shard)).SplitAsync(child, middle, version).ConfigureAwait(true);
        int i = Array.IndexOf(collection.ShardIds, shard);
        var starts = collection.RangeStarts.ToList();
        var shards = collection.ShardIds.ToList();
        var floors = shards.Select(collection.FloorOf).ToList();
        starts.Insert(i + 1, middle);
        shards.Insert(i + 1, child);
        floors[i] = floor;
        floors.Insert(i + 1, 0);
        entry.Descriptor = new CollectionDescriptor
        {
            Name = collection.Name,
            Epoch = collection.Epoch,
            Schema = collection.Schema,
            ReplicaCount = collection.ReplicaCount,
            RangeStarts = starts.ToArray(),
            ShardIds = shards.ToArray(),
            MapVersion = version,
            ShardFloors = floors.ToArray(),
        };
        entry.PendingSplit = -1;
        await SaveAsync().ConfigureAwait(true);
        _logger.LogInformation("Collection {Name}: shard {Shard} split at hash {Middle} into shards {Shard} and {Child} (map version {Version}).",
            collection.Name, shard, middle, shard, child, version);
    }

    private static UInt128 Width(ulong start, ulong end) => (end == 0 ? (UInt128)ulong.MaxValue + 1 : end) - start;

    private async Task SaveAsync()
    {
        try
        {
            _etag = await _store.WriteAsync(RecordName, _state, _etag).ConfigureAwait(true);
        }
        catch (InconsistentStateException)
        {
            // Another activation changed the catalog: this one's view is stale.
            DeactivateOnIdle();
            throw;
        }
    }
}
