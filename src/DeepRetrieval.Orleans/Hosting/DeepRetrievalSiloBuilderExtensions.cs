using DeepRetrieval.Orleans;
using DeepRetrieval.Orleans.Placement;
using DeepRetrieval.Orleans.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Hosting;

/// <summary>Adds DeepRetrieval's vector shards to an Orleans silo.</summary>
public static class DeepRetrievalSiloBuilderExtensions
{
    /// <summary>
    /// Hosts DeepRetrieval vector collections on this silo: the catalog, shard, replica and router grains (found by Orleans in
    /// this assembly), the placement that spreads each shard's replica set over silos, and the binary (Orleans) serializer
    /// for the storage provider the shards use. Register that storage provider too, under
    /// <see cref="DeepRetrievalShardOptions.StorageProviderName"/> (<c>deepretrieval</c> by default): ADO.NET on PostgreSQL,
    /// <see cref="AddDeepRetrievalFileGrainStorage"/>, or memory for tests.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Changes the settings; null for the defaults.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddDeepRetrievalVectorShards(this ISiloBuilder builder, Action<DeepRetrievalShardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var probe = new DeepRetrievalShardOptions();
        configure?.Invoke(probe);
        ArgumentException.ThrowIfNullOrWhiteSpace(probe.StorageProviderName, nameof(DeepRetrievalShardOptions.StorageProviderName));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(probe.SnapshotChunkBytes, nameof(DeepRetrievalShardOptions.SnapshotChunkBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(probe.CheckpointLogBytes, nameof(DeepRetrievalShardOptions.CheckpointLogBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(probe.CheckpointLogEntries, nameof(DeepRetrievalShardOptions.CheckpointLogEntries));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(probe.TrainingThreshold, nameof(DeepRetrievalShardOptions.TrainingThreshold));
        builder.Services.AddOptions<DeepRetrievalShardOptions>().Configure(o => configure?.Invoke(o));
        builder.Services.AddPlacementDirector<ReplicaSpreadPlacement, ReplicaSpreadPlacementDirector>();
        // Snapshot chunks and log entries are byte arrays: the binary serializer stores them as they are (JSON would base64 them).
        builder.Services.TryAddKeyedSingleton<IGrainStorageSerializer>(probe.StorageProviderName,
            (services, _) => new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()));
        return builder;
    }

    /// <summary>
    /// Registers a <see cref="FileGrainStorage"/> named <paramref name="name"/>: grain states as files under
    /// <paramref name="folder"/>, safe between silos that share the folder.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name (<c>deepretrieval</c> for the vector shards).</param>
    /// <param name="folder">The folder.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddDeepRetrievalFileGrainStorage(this ISiloBuilder builder, string name, string folder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (services, key) => new FileGrainStorage(folder,
            services.GetKeyedService<IGrainStorageSerializer>(key) ?? services.GetRequiredService<IGrainStorageSerializer>()));
        return builder;
    }
}
