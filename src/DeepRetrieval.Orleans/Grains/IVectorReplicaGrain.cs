using Orleans.Concurrency;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// A read replica of a shard, keyed <c>&lt;epoch&gt;/&lt;shard&gt;/&lt;n&gt;</c>: it loads the shard's snapshot and log from
/// grain storage, applies the entries the primary pushes, and catches up from storage when a push is missing, a poll finds
/// new entries, or a read asks for a position it has not reached.
/// </summary>
public interface IVectorReplicaGrain : IVectorShardReader
{
    /// <summary>A log entry the primary has made durable.</summary>
    /// <param name="sequence">Its position.</param>
    /// <param name="entry">The entry (<c>RecordCodec</c> payload).</param>
    [OneWay]
    Task ReplicateAsync(long sequence, byte[] entry);

    /// <summary>Applies every entry in storage it has not applied yet.</summary>
    /// <returns>The last entry applied.</returns>
    Task<long> CatchUpAsync();

    /// <summary>Forgets the shard and deactivates (the collection is being deleted).</summary>
    Task DropAsync();
}
