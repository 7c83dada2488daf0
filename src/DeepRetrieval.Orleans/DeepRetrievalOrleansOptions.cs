using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Orleans;

/// <summary>Client-side settings of an <see cref="OrleansRecordEngineProvider"/> (the VectorData store over the cluster).</summary>
public sealed class DeepRetrievalOrleansOptions
{
    /// <summary>The store's name: its catalog grain's key. Stores of different names share nothing. Default <c>default</c>.</summary>
    public string StoreName { get; set; } = "default";

    /// <summary>Shards of a new collection. Default 4.</summary>
    public int ShardCount { get; set; } = 4;

    /// <summary>Read replicas per shard of a new collection, besides the primary. Default 1.</summary>
    public int ReplicaCount { get; set; } = 1;

    /// <summary>Which members may answer reads. Default <see cref="ReadConsistency.Session"/> (read your writes).</summary>
    public ReadConsistency ReadConsistency { get; set; } = ReadConsistency.Session;

    /// <summary>
    /// Answer searches and reads from the other shards when every member of one shard's replica set fails, instead of
    /// throwing. Each partial answer is logged as a warning and counted. Default false.
    /// </summary>
    public bool AllowPartialResults { get; set; }

    /// <summary>Where partial answers are logged; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal DeepRetrievalOrleansOptions Clone() => (DeepRetrievalOrleansOptions)MemberwiseClone();

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(StoreName, nameof(StoreName));
        if (ShardCount is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(ShardCount), ShardCount, "A collection has 1 to 4,096 shards.");
        if (ReplicaCount is < 0 or > 16) throw new ArgumentOutOfRangeException(nameof(ReplicaCount), ReplicaCount, "A shard has 0 to 16 read replicas.");
        if (!Enum.IsDefined(ReadConsistency)) throw new ArgumentOutOfRangeException(nameof(ReadConsistency), ReadConsistency, "Unknown read consistency.");
    }
}
