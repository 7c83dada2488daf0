namespace DeepRetrieval.Orleans;

/// <summary>Silo-side settings of the shard, replica, router and catalog grains (<c>AddDeepRetrievalVectorShards</c>).</summary>
public sealed class DeepRetrievalShardOptions
{
    /// <summary>The default <see cref="StorageProviderName"/>.</summary>
    public const string DefaultStorageProviderName = "deepretrieval";

    /// <summary>The Orleans grain storage provider that holds the catalog, the shard logs and snapshots. Default <c>deepretrieval</c>.</summary>
    public string StorageProviderName { get; set; } = DefaultStorageProviderName;

    /// <summary>Log bytes since the last checkpoint that make the primary checkpoint. Default 16 MiB.</summary>
    public long CheckpointLogBytes { get; set; } = 16L << 20;

    /// <summary>Log entries since the last checkpoint that make the primary checkpoint. Default 4,096.</summary>
    public int CheckpointLogEntries { get; set; } = 4096;

    /// <summary>Largest storage record of a snapshot; bigger parts are split into chunks. Default 1 MiB.</summary>
    public int SnapshotChunkBytes { get; set; } = 1 << 20;

    /// <summary>How often a replica looks for log entries it missed (pushes are lost when a primary dies). Default 2 s.</summary>
    public TimeSpan ReplicaPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Vectors a shard's column collects before a trained index kind (IVF, PQ, SQ …) is trained. Default 10,000.</summary>
    public int TrainingThreshold { get; set; } = VectorData.Storage.RecordTableOptions.DefaultTrainingThreshold;

    /// <summary>Search-time index parameters (<c>ef</c>, <c>nprobe</c>) for every shard; null for the defaults.</summary>
    public IReadOnlyDictionary<string, double>? SearchParameters { get; set; }

    /// <summary>How long the router waits for one member of a replica set before asking the next. Default 5 s.</summary>
    public TimeSpan ReadAttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the router waits for one attempt of a write before making it again (writes are idempotent). Default 10 s.</summary>
    public TimeSpan WriteAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the router keeps retrying a write whose shard primary is unreachable (it reactivates elsewhere). Default 60 s.</summary>
    public TimeSpan WriteRetryWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a member that failed a read is asked last. Default 5 s.</summary>
    public TimeSpan FailedMemberCooldown { get; set; } = TimeSpan.FromSeconds(5);
}
