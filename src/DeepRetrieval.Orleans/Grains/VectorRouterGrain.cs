using System.Collections.Concurrent;
using System.Data.Common;
using DeepRetrieval.Orleans.Routing;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Scoring;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// The stateless router (see <see cref="IVectorRouterGrain"/>). Writes go to the primary of the shard owning each key and are
/// retried while the primary is unreachable (it reactivates on another silo) within
/// <see cref="DeepRetrievalShardOptions.WriteRetryWindow"/>: writes are idempotent upserts and deletes by key, so a retry
/// after a lost acknowledgement changes nothing. Reads go to one member of every shard's replica set, taken round-robin,
/// with members that failed recently asked last; a member that fails or does not answer within
/// <see cref="DeepRetrievalShardOptions.ReadAttemptTimeout"/> hands the read to the next.
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed class VectorRouterGrain : Grain, IVectorRouterGrain
{
    private static readonly ConcurrentDictionary<Guid, RecordSchema> Schemas = new();
    private readonly DeepRetrievalShardOptions _options;
    private readonly ILogger<VectorRouterGrain> _logger;
    private readonly ConcurrentDictionary<string, long> _failedAt = new(StringComparer.Ordinal);
    private int _turn;

    /// <summary>Creates the grain (Orleans activates it).</summary>
    /// <param name="options">Silo settings.</param>
    /// <param name="logger">Logger.</param>
    public VectorRouterGrain(IOptions<DeepRetrievalShardOptions> options, ILogger<VectorRouterGrain> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    public async Task<RoutedWrite> UpsertAsync(CollectionDescriptor collection, byte[][] rows, object[] keys)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(keys);
        if (rows.Length != keys.Length) throw new ArgumentException("One key is needed per row.", nameof(keys));
        var groups = GroupByShard(collection, keys);
        var writes = groups.Select(g => WriteAsync(collection, g.Key, p => p.UpsertAsync(g.Value.Select(i => rows[i]).ToArray(), collection.MapVersion)));
        return ToRoutedWrite(await Task.WhenAll(writes).ConfigureAwait(true));
    }

    /// <inheritdoc />
    public async Task<RoutedWrite> DeleteAsync(CollectionDescriptor collection, object[] keys)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(keys);
        var groups = GroupByShard(collection, keys);
        var writes = groups.Select(g => WriteAsync(collection, g.Key, p => p.DeleteAsync(g.Value.Select(i => keys[i]).ToArray(), collection.MapVersion)));
        return ToRoutedWrite(await Task.WhenAll(writes).ConfigureAwait(true));
    }

    /// <inheritdoc />
    public async Task<RoutedRows> GetAsync(CollectionDescriptor collection, object[] keys, bool includeVectors, ReadSession session)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(session);
        RecordSchema schema = SchemaOf(collection);
        var groups = GroupByShard(collection, keys);
        var reads = groups.Select(g =>
        {
            object[] shardKeys = g.Value.Select(i => keys[i]).Distinct().ToArray();
            return ReadShardAsync(collection, g.Key, session, (reader, min) => reader.GetAsync(shardKeys, includeVectors, min, collection.MapVersion));
        });
        var answers = await Task.WhenAll(reads).ConfigureAwait(true);
        int[] missing = CheckMissing(collection, answers, session);
        var byKey = new Dictionary<object, byte[]>();
        foreach (var answer in answers)
            foreach (byte[] row in answer.Rows?.Rows ?? [])
                byKey[RecordCodec.DecodeRow(schema, row).Row.Key] = row;
        var ordered = new List<byte[]>(keys.Length);
        foreach (object key in keys)
            if (byKey.TryGetValue(key, out byte[]? row)) ordered.Add(row);
        return new RoutedRows { Rows = ordered.ToArray(), MissingShards = missing };
    }

    /// <inheritdoc />
    public async Task<RoutedRows> QueryAsync(CollectionDescriptor collection, ShardQuery query, int skip, ReadSession session)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        RecordSchema schema = SchemaOf(collection);
        // Every shard sorts by the key last, as the merge does, so each shard's first rows contain its share of the global ones.
        var orderBy = query.OrderBy.Select((c, i) => new OrderByColumn(c, query.Ascending[i])).ToList();
        if (!orderBy.Any(o => o.Column == schema.Key.Name)) orderBy.Add(new OrderByColumn(schema.Key.Name, true));
        var shardQuery = new ShardQuery
        {
            Filter = query.Filter,
            OrderBy = orderBy.Select(o => o.Column).ToArray(),
            Ascending = orderBy.Select(o => o.Ascending).ToArray(),
            Count = query.Count,
            IncludeVectors = query.IncludeVectors,
            MapVersion = collection.MapVersion,
        };
        var answers = await FanOutAsync(collection, session, (reader, min) => reader.QueryAsync(CopyWithMinimum(shardQuery, min))).ConfigureAwait(true);
        int[] missing = CheckMissing(collection, answers, session);
        var merged = RowMerge.Ordered(Candidates(schema, answers), schema, orderBy, skip, query.Count - skip);
        return new RoutedRows { Rows = merged.Select(c => c.Bytes).ToArray(), MissingShards = missing };
    }

    /// <inheritdoc />
    public async Task<RoutedRows> SearchAsync(CollectionDescriptor collection, ShardSearch search, int skip, ReadSession session)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        RecordSchema schema = SchemaOf(collection);
        if ((uint)search.Column >= (uint)schema.Vectors.Count)
            throw new ArgumentOutOfRangeException(nameof(search), search.Column, $"The collection has {schema.Vectors.Count} vector columns.");
        search = CopyWithMinimum(search, 0);
        search.MapVersion = collection.MapVersion;
        var answers = await FanOutAsync(collection, session, (reader, min) => reader.SearchAsync(CopyWithMinimum(search, min))).ConfigureAwait(true);
        int[] missing = CheckMissing(collection, answers, session);
        ScoreConvention? convention = search.Keywords is null ? ScoreConvention.For(schema.Vectors[search.Column].DistanceFunction) : null;
        var merged = RowMerge.Hits(Candidates(schema, answers), convention, skip, search.Count - skip);
        return new RoutedRows
        {
            Rows = merged.Select(c => c.Bytes).ToArray(),
            Scores = merged.Select(c => c.Score).ToArray(),
            MissingShards = missing,
        };
    }

    /// <summary>True for failures that another attempt (later, or on another member) may not meet.</summary>
    internal static bool IsTransient(Exception e) =>
        e is TimeoutException or OrleansException or DbException or ReplicaBehindException or IOException
        || e is AggregateException { InnerExceptions.Count: 1 } a && IsTransient(a.InnerExceptions[0]);

    private static RecordSchema SchemaOf(CollectionDescriptor collection) =>
        Schemas.GetOrAdd(collection.Epoch, _ => RecordCodec.DecodeSchema(collection.Schema));

    private static Dictionary<int, List<int>> GroupByShard(CollectionDescriptor collection, object[] keys)
    {
        ShardMap map = ShardMap.Of(collection);
        var groups = new Dictionary<int, List<int>>();
        for (int i = 0; i < keys.Length; i++)
        {
            object key = keys[i] ?? throw new ArgumentException($"Key {i} is null.", nameof(keys));
            int shard = map.ShardOfKey(key);
            if (!groups.TryGetValue(shard, out List<int>? list)) groups[shard] = list = [];
            list.Add(i);
        }
        return groups;
    }

    private static RoutedWrite ToRoutedWrite((int Shard, long Sequence)[] results) => new()
    {
        Shards = results.Select(r => r.Shard).ToArray(),
        Sequences = results.Select(r => r.Sequence).ToArray(),
    };

    private static ShardQuery CopyWithMinimum(ShardQuery q, long min) => new()
    {
        Filter = q.Filter, OrderBy = q.OrderBy, Ascending = q.Ascending, Count = q.Count, IncludeVectors = q.IncludeVectors, MinSequence = min,
        MapVersion = q.MapVersion,
    };

    private static ShardSearch CopyWithMinimum(ShardSearch s, long min) => new()
    {
        Column = s.Column, Query = s.Query, Count = s.Count, Filter = s.Filter, ScoreThreshold = s.ScoreThreshold,
        IncludeVectors = s.IncludeVectors, MinSequence = min, Keywords = s.Keywords, TextColumn = s.TextColumn, MapVersion = s.MapVersion,
    };

    private static IEnumerable<RowMerge.Candidate> Candidates(RecordSchema schema, (int Shard, ShardRows? Rows, Exception? Failure)[] answers)
    {
        foreach (var answer in answers)
        {
            if (answer.Rows is not { } rows) continue;
            for (int i = 0; i < rows.Rows.Length; i++)
                yield return new RowMerge.Candidate(rows.Rows[i], RecordCodec.DecodeRow(schema, rows.Rows[i]).Row, i < rows.Scores.Length ? rows.Scores[i] : 0);
        }
    }

    private int[] CheckMissing(CollectionDescriptor collection, (int Shard, ShardRows? Rows, Exception? Failure)[] answers, ReadSession session)
    {
        var failed = answers.Where(a => a.Rows is null).ToArray();
        if (failed.Length == 0) return [];
        if (!session.AllowPartialResults)
        {
            var (shard, _, failure) = failed[0];
            throw new ShardUnavailableException(
                $"Shard {shard} of collection '{collection.Name}': no member of its replica set answered ({collection.ReplicaCount + 1} tried); last error: {failure?.Message}",
                failure!);
        }
        _logger.LogWarning("Collection {Name}: answering without shards {Shards}, whose replica sets did not answer.", collection.Name, string.Join(", ", failed.Select(f => f.Shard)));
        return failed.Select(f => f.Shard).ToArray();
    }

    private async Task<(int Shard, ShardRows? Rows, Exception? Failure)[]> FanOutAsync(CollectionDescriptor collection, ReadSession session,
        Func<IVectorShardReader, long, Task<ShardRows>> read) =>
        await Task.WhenAll(collection.ShardIds.Select(s => ReadShardAsync(collection, s, session, read))).ConfigureAwait(true);

    private async Task<(int Shard, ShardRows? Rows, Exception? Failure)> ReadShardAsync(CollectionDescriptor collection, int shard, ReadSession session,
        Func<IVectorShardReader, long, Task<ShardRows>> read)
    {
        // A member must have applied what this caller wrote, and what the shard map requires (after a split, the deletion of
        // the records that moved, or a read would see them twice).
        long minimum = Math.Max(session.MinSequenceOf(shard), collection.FloorOf(shard));
        Exception? last = null;
        foreach (var (key, reader) in MembersInOrder(collection, shard, session.Consistency))
        {
            try
            {
                ShardRows rows = await read(reader, minimum).WaitAsync(_options.ReadAttemptTimeout).ConfigureAwait(true);
                _failedAt.TryRemove(key, out _);
                return (shard, rows, null);
            }
            catch (Exception e) when (IsTransient(e))
            {
                last = e;
                _failedAt[key] = Environment.TickCount64;
                _logger.LogDebug(e, "Shard member {Key} did not answer; asking the next member.", key);
            }
        }
        return (shard, null, last);
    }

    // The primary (member 0) and the replicas, starting at a rotating member; members that failed within the cool-down last.
    private List<(string Key, IVectorShardReader Reader)> MembersInOrder(CollectionDescriptor collection, int shard, ReadConsistency consistency)
    {
        var members = new List<(string, IVectorShardReader)>(collection.ReplicaCount + 1);
        string primary = collection.ShardKey(shard);
        if (consistency == ReadConsistency.Strong)
        {
            members.Add((primary, GrainFactory.GetGrain<IVectorShardGrain>(primary)));
            return members;
        }
        int count = collection.ReplicaCount + 1;
        int start = (int)((uint)Interlocked.Increment(ref _turn) % (uint)count);
        long now = Environment.TickCount64;
        long coolDown = (long)_options.FailedMemberCooldown.TotalMilliseconds;
        var healthy = new List<(string, IVectorShardReader)>(count);
        var suspect = new List<(string, IVectorShardReader)>();
        for (int i = 0; i < count; i++)
        {
            int member = (start + i) % count;
            string key = member == 0 ? primary : collection.ReplicaKey(shard, member);
            IVectorShardReader reader = member == 0 ? GrainFactory.GetGrain<IVectorShardGrain>(key) : GrainFactory.GetGrain<IVectorReplicaGrain>(key);
            bool failedRecently = _failedAt.TryGetValue(key, out long at) && now - at < coolDown;
            (failedRecently ? suspect : healthy).Add((key, reader));
        }
        members.AddRange(healthy);
        members.AddRange(suspect);
        return members;
    }

    private async Task<(int Shard, long Sequence)> WriteAsync(CollectionDescriptor collection, int shard, Func<IVectorShardGrain, Task<long>> write)
    {
        var primary = GrainFactory.GetGrain<IVectorShardGrain>(collection.ShardKey(shard));
        long deadline = Environment.TickCount64 + (long)_options.WriteRetryWindow.TotalMilliseconds;
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return (shard, await write(primary).WaitAsync(_options.WriteAttemptTimeout).ConfigureAwait(true));
            }
            catch (Exception e) when (IsTransient(e) && e is not ReplicaBehindException && Environment.TickCount64 + delay.TotalMilliseconds < deadline)
            {
                _logger.LogDebug(e, "Shard {Shard} of collection {Name}: the write failed ({Message}); retrying in {Delay}.", shard, collection.Name, e.Message, delay);
                await Task.Delay(delay).ConfigureAwait(true);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }
}
