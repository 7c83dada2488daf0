using System.Globalization;
using DeepRetrieval.Orleans.Placement;
using DeepRetrieval.Orleans.Routing;
using DeepRetrieval.Orleans.Storage;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// The primary of a shard (see <see cref="IVectorShardGrain"/>). A write is validated, appended to the shard's log in grain
/// storage as one record (inserted only if that sequence number is free, which fences off a stale duplicate activation),
/// applied to the table, pushed to the replicas, and only then acknowledged. Writes are serialised; reads interleave.
/// </summary>
[ReplicaSpreadPlacement]
public sealed class VectorShardGrain : ShardGrainBase, IVectorShardGrain
{
    private readonly Dictionary<long, string?> _logETags = [];
    private long _splitFloor;
    private long _logBytes;
    private int _logEntries;

    /// <summary>Creates the grain (Orleans activates it).</summary>
    /// <param name="options">Silo settings.</param>
    /// <param name="logger">Logger.</param>
    public VectorShardGrain(IOptions<DeepRetrievalShardOptions> options, ILogger<VectorShardGrain> logger)
        : base(options, logger)
    {
    }

    private protected override bool IsPrimary => true;

    /// <inheritdoc />
    public async Task InitializeAsync(CollectionDescriptor collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        if (!Missing)
        {
            if (Manifest!.Epoch != collection.Epoch)
                throw new InvalidOperationException($"Shard {ShardKey} belongs to incarnation {Manifest.Epoch:N}, not {collection.Epoch:N}.");
            return;
        }
        int shard = CollectionDescriptor.ParseKey(GrainKey).Shard;
        var (start, end) = collection.RangeOf(shard);
        var manifest = new ShardManifest
        {
            Epoch = collection.Epoch,
            Collection = collection.Name,
            Schema = collection.Schema,
            ReplicaCount = collection.ReplicaCount,
            Generation = 0,
            LogStart = 1,
            MapVersion = collection.MapVersion,
            RangeStart = start,
            RangeEnd = end,
        };
        try
        {
            await Store.WriteManifestAsync(manifest, etag: null).ConfigureAwait(true);
        }
        catch (InconsistentStateException)
        {
            // Another activation created it first; load what it wrote.
        }
        await LoadAsync().ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task<long> UpsertAsync(byte[][] rows, long mapVersion)
    {
        ArgumentNullException.ThrowIfNull(rows);
        RecordTable table = Ready();
        CheckMapVersion(mapVersion);
        if (rows.Length == 0) return Applied;
        var decoded = new RecordRow[rows.Length];
        for (int i = 0; i < rows.Length; i++) decoded[i] = RecordCodec.DecodeRow(table.Schema, rows[i]).Row;
        CheckOwned(decoded.Select(r => r.Key));
        UpsertBatch batch = table.PrepareUpsert(decoded);
        return await CommitAsync(table, RecordCodec.EncodeUpsert(table.Schema, batch), t => t.Apply(batch)).ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task<long> DeleteAsync(object[] keys, long mapVersion)
    {
        ArgumentNullException.ThrowIfNull(keys);
        RecordTable table = Ready();
        CheckMapVersion(mapVersion);
        CheckOwned(keys);
        long[] ids = table.PrepareDelete(keys);
        if (ids.Length == 0) return Applied;
        return await CommitAsync(table, RecordCodec.EncodeDelete(ids), t => t.ApplyDelete(ids)).ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task<long> SplitAsync(int child, ulong middle, long mapVersion)
    {
        RecordTable table = Ready();
        ShardManifest manifest = Manifest!;
        if (Range.MapVersion >= mapVersion) return _splitFloor; // this split (or a later change) is done
        if (middle <= Range.Start || !Range.Contains(middle))
            throw new ArgumentOutOfRangeException(nameof(middle), middle, $"Shard {ShardKey} owns hashes [{Range.Start}, {(Range.End == 0 ? "2^64" : Range.End)}); a split point must lie strictly inside.");
        string childKey = string.Create(CultureInfo.InvariantCulture, $"{manifest.Epoch:N}/{child}");

        // The new shard's storage first: a snapshot of the records that move, as generation 1 of its own log.
        var moved = table.EnumerateRows().Where(r => KeyHash.Of(r.Row.Key) >= middle).ToList();
        var childTable = new RecordTable(table.Schema, new RecordTableOptions
        {
            TrainingThreshold = Options.TrainingThreshold, SearchParameters = Options.SearchParameters, Logger = Logger,
        });
        childTable.LoadRows(table.NextId, moved);
        for (int c = 0; c < table.Schema.Vectors.Count; c++) childTable.RebuildIndex(c);
        childTable.PromoteDueIndexes();
        var childStore = new ShardPersistence(GrainStorage, childKey);
        List<byte[]> rows = ShardSnapshot.EncodeRows(childTable, Options.SnapshotChunkBytes);
        await childStore.WriteChunksAsync(1, ShardPersistence.RowsPart, rows).ConfigureAwait(true);
        var indexChunks = new int[table.Schema.Vectors.Count];
        for (int c = 0; c < indexChunks.Length; c++)
        {
            List<byte[]> index = ShardSnapshot.EncodeIndex(childTable, c, Options.SnapshotChunkBytes);
            await childStore.WriteChunksAsync(1, ShardPersistence.IndexPart(c), index).ConfigureAwait(true);
            indexChunks[c] = index.Count;
        }
        var childManifest = new ShardManifest
        {
            Epoch = manifest.Epoch,
            Collection = manifest.Collection,
            Schema = manifest.Schema,
            ReplicaCount = manifest.ReplicaCount,
            Generation = 1,
            RowChunks = rows.Count,
            IndexChunks = indexChunks,
            LogStart = 1,
            MapVersion = mapVersion,
            RangeStart = middle,
            RangeEnd = Range.End,
        };
        var (_, childETag, childExists) = await childStore.ReadManifestAsync().ConfigureAwait(true);
        await childStore.WriteManifestAsync(childManifest, childExists ? childETag : null).ConfigureAwait(true);
        childTable.Dispose();

        // Then the cut here, in log order: the map change first (from then on, reads routed with the old map are refused,
        // while this shard still holds every record of its old range), then the deletion of the moved records.
        byte[] change = MapChangeEntry.Encode(mapVersion, Range.Start, middle);
        var newRange = new ShardRange(mapVersion, Range.Start, middle);
        long floor = await CommitAsync(table, change, _ => Range = newRange).ConfigureAwait(true);
        long[] ids = moved.Select(r => r.Id).ToArray();
        if (ids.Length > 0) floor = await CommitAsync(table, RecordCodec.EncodeDelete(ids), t => t.ApplyDelete(ids)).ConfigureAwait(true);
        _splitFloor = floor;
        await CheckpointCoreAsync().ConfigureAwait(true);
        Logger.LogInformation("Shard {Key}: split at hash {Middle}; {Moved} records moved to shard {Child} (map version {Version}).",
            ShardKey, middle, ids.Length, child, mapVersion);
        return floor;
    }

    /// <inheritdoc />
    public async Task CheckpointAsync()
    {
        Ready();
        await CheckpointCoreAsync().ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task DropAsync()
    {
        ShardManifest? manifest = Manifest;
        int replicas = manifest?.ReplicaCount ?? 0;
        if (manifest is not null)
        {
            Missing = true;
            Table = null;
            Manifest = null;
            // The manifest first: from then on the shard does not exist for anyone; the rest is garbage collection.
            await Store.DeleteManifestAsync(ManifestETag).ConfigureAwait(true);
            if (manifest.Generation > 0) await DeleteSnapshotAsync(manifest).ConfigureAwait(true);
            for (long s = manifest.LogStart; s <= Applied; s++)
            {
                if (_logETags.TryGetValue(s, out string? etag)) await Store.DeleteEntryAsync(s, etag).ConfigureAwait(true);
                else await Store.DeleteEntryIfExistsAsync(s).ConfigureAwait(true);
            }
            _logETags.Clear();
        }
        for (int r = 1; r <= replicas; r++)
        {
            try
            {
                await GrainFactory.GetGrain<IVectorReplicaGrain>(ReplicaKey(r)).DropAsync().ConfigureAwait(true);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // A replica that cannot be reached finds the manifest gone when it next loads or polls.
                Logger.LogWarning(e, "Shard {Key}: replica {Replica} did not acknowledge the drop.", ShardKey, r);
            }
        }
        DeactivateOnIdle();
    }

    private protected override Task EnsureAppliedAsync(long minSequence)
    {
        // The primary has applied every acknowledged write of the shard; a larger position means storage lost entries.
        if (!Missing && minSequence > Applied)
            throw new ReplicaBehindException($"Shard {ShardKey}: the primary has applied log entry {Applied}, but entry {minSequence} was acknowledged; the shard's storage lost entries.");
        return Task.CompletedTask;
    }

    private protected override void OnEntryLoaded(long sequence, string? etag, int bytes)
    {
        _logETags[sequence] = etag;
        _logBytes += bytes;
        _logEntries++;
    }

    private protected override void OnLoaded(ShardManifest manifest) => _splitFloor = manifest.SplitFloor;

    // A key outside the shard's range was routed with a map that predates a split (a router cannot know a newer map than the
    // version it sent, but a retried write may carry an old one): refuse it so that the caller routes again.
    private void CheckOwned(IEnumerable<object> keys)
    {
        foreach (object key in keys)
            if (key is not null && !Range.Contains(KeyHash.Of(key)))
                throw new ShardMapChangedException($"Shard {ShardKey} does not own key {key} (its range changed at shard-map version {Range.MapVersion}).");
    }

    private string ReplicaKey(int member) => string.Create(CultureInfo.InvariantCulture, $"{ShardKey}/{member}");

    // Makes a write durable (one log record), applies it, tells the replicas, and checkpoints when the log is long.
    private async Task<long> CommitAsync(RecordTable table, byte[] payload, Action<RecordTable> apply)
    {
        long sequence = Applied + 1;
        string? etag;
        try
        {
            etag = await Store.AppendAsync(sequence, payload).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            // Whether the record landed is unknown (or another activation wrote it): reload from storage on the next call.
            Logger.LogWarning(e, "Shard {Key}: appending log entry {Sequence} failed; the shard reloads from storage.", ShardKey, sequence);
            DeactivateOnIdle();
            throw;
        }
        try
        {
            apply(table);
        }
        catch (Exception e)
        {
            Logger.LogError(e, "Shard {Key}: applying the durable log entry {Sequence} failed; the shard reloads from storage.", ShardKey, sequence);
            DeactivateOnIdle();
            throw;
        }
        Applied = sequence;
        _logETags[sequence] = etag;
        _logBytes += payload.Length;
        _logEntries++;
        table.PromoteDueIndexes();
        for (int r = 1; r <= Manifest!.ReplicaCount; r++)
            await GrainFactory.GetGrain<IVectorReplicaGrain>(ReplicaKey(r)).ReplicateAsync(sequence, payload).ConfigureAwait(true);
        if (_logBytes >= Options.CheckpointLogBytes || _logEntries >= Options.CheckpointLogEntries)
        {
            try
            {
                await CheckpointCoreAsync().ConfigureAwait(true);
            }
            catch (Exception e) when (e is not InconsistentStateException)
            {
                // The write is durable in the log; the next write tries the checkpoint again.
                Logger.LogWarning(e, "Shard {Key}: the checkpoint after log entry {Sequence} failed.", ShardKey, sequence);
            }
        }
        return sequence;
    }

    // Writes snapshot generation g+1 (rows and index parts, chunked), then the manifest (the commit point, ETag-checked),
    // then deletes generation g and the log entries the snapshot covers in the background.
    private async Task CheckpointCoreAsync()
    {
        RecordTable table = Table!;
        ShardManifest previous = Manifest!;
        long generation = previous.Generation + 1;
        List<byte[]> rows = ShardSnapshot.EncodeRows(table, Options.SnapshotChunkBytes);
        await Store.WriteChunksAsync(generation, ShardPersistence.RowsPart, rows).ConfigureAwait(true);
        var indexChunks = new int[table.Schema.Vectors.Count];
        for (int c = 0; c < indexChunks.Length; c++)
        {
            List<byte[]> index = ShardSnapshot.EncodeIndex(table, c, Options.SnapshotChunkBytes);
            await Store.WriteChunksAsync(generation, ShardPersistence.IndexPart(c), index).ConfigureAwait(true);
            indexChunks[c] = index.Count;
        }
        var next = new ShardManifest
        {
            Epoch = previous.Epoch,
            Collection = previous.Collection,
            Schema = previous.Schema,
            ReplicaCount = previous.ReplicaCount,
            Generation = generation,
            RowChunks = rows.Count,
            IndexChunks = indexChunks,
            LogStart = Applied + 1,
            MapVersion = Range.MapVersion,
            RangeStart = Range.Start,
            RangeEnd = Range.End,
            SplitFloor = _splitFloor,
        };
        try
        {
            ManifestETag = await Store.WriteManifestAsync(next, ManifestETag).ConfigureAwait(true);
        }
        catch (InconsistentStateException)
        {
            Logger.LogWarning("Shard {Key}: the manifest changed under this activation (another one is active); it reloads.", ShardKey);
            DeactivateOnIdle();
            throw;
        }
        Manifest = next;
        var covered = _logETags.Where(p => p.Key < next.LogStart).ToList();
        foreach (var (sequence, _) in covered) _logETags.Remove(sequence);
        _logBytes = 0;
        _logEntries = 0;
        Logger.LogInformation("Shard {Key}: checkpoint generation {Generation} ({Count} records, {Chunks} row chunks) covers log entries up to {Sequence}.",
            ShardKey, generation, table.Count, rows.Count, next.LogStart - 1);
        _ = DeleteObsoleteAsync(previous, covered);
    }

    private async Task DeleteObsoleteAsync(ShardManifest previous, List<KeyValuePair<long, string?>> entries)
    {
        try
        {
            foreach (var (sequence, etag) in entries) await Store.DeleteEntryAsync(sequence, etag).ConfigureAwait(true);
            if (previous.Generation > 0) await DeleteSnapshotAsync(previous).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            // Left-over records cost space only: no manifest names them.
            Logger.LogWarning(e, "Shard {Key}: deleting records older than generation {Generation} failed.", ShardKey, previous.Generation + 1);
        }
    }

    private async Task DeleteSnapshotAsync(ShardManifest manifest)
    {
        await Store.DeleteChunksAsync(manifest.Generation, ShardPersistence.RowsPart, manifest.RowChunks).ConfigureAwait(true);
        for (int c = 0; c < manifest.IndexChunks.Length; c++)
            await Store.DeleteChunksAsync(manifest.Generation, ShardPersistence.IndexPart(c), manifest.IndexChunks[c]).ConfigureAwait(true);
    }
}
