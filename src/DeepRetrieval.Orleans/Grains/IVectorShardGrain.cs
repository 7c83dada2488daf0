namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// The primary of a shard, keyed <c>&lt;epoch&gt;/&lt;shard&gt;</c>: it owns the shard's index and records, takes its
/// writes, appends each to the shard's log in grain storage before acknowledging it, pushes it to the replicas, and
/// checkpoints.
/// </summary>
public interface IVectorShardGrain : IVectorShardReader
{
    /// <summary>Creates the shard's storage for a collection incarnation (nothing happens when it exists).</summary>
    /// <param name="collection">The collection.</param>
    Task InitializeAsync(CollectionDescriptor collection);

    /// <summary>Stores rows (insert or replace by key) atomically and durably.</summary>
    /// <param name="rows">Rows this shard owns (<c>RecordCodec.EncodeRow</c> bytes).</param>
    /// <param name="mapVersion">The shard-map version the caller routed with.</param>
    /// <returns>The log entry of the write.</returns>
    /// <exception cref="ShardMapChangedException">The shard was split since that map: route again.</exception>
    Task<long> UpsertAsync(byte[][] rows, long mapVersion);

    /// <summary>Deletes the records with these keys atomically and durably.</summary>
    /// <param name="keys">Keys this shard owns; unknown ones are ignored.</param>
    /// <param name="mapVersion">The shard-map version the caller routed with.</param>
    /// <returns>The log entry of the write (the current position when nothing was deleted).</returns>
    /// <exception cref="ShardMapChangedException">The shard was split since that map: route again.</exception>
    Task<long> DeleteAsync(object[] keys, long mapVersion);

    /// <summary>
    /// Splits the shard at hash <paramref name="middle"/>: writes shard <paramref name="child"/>'s storage with the records
    /// hashing at or above it (their snapshot, generation 1), then logs a map change to <paramref name="mapVersion"/> and the
    /// deletion of those records here. Writes to this shard wait meanwhile; reads routed with the older map are refused
    /// from the map change on. Calling it again for the same version changes nothing.
    /// </summary>
    /// <param name="child">The new shard's id.</param>
    /// <param name="middle">The first hash the new shard owns.</param>
    /// <param name="mapVersion">The map version after the split.</param>
    /// <returns>The floor: the log position after which the moved records are gone from this shard.</returns>
    Task<long> SplitAsync(int child, ulong middle, long mapVersion);

    /// <summary>Writes a checkpoint now: snapshot and index parts, then the manifest; older records are then deleted.</summary>
    Task CheckpointAsync();

    /// <summary>Deletes the shard's storage and deactivates it and its replicas (the collection is being deleted).</summary>
    Task DropAsync();
}
