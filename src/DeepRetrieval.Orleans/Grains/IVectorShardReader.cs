using Orleans.Concurrency;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>The reads every member of a shard's replica set (the primary and its replicas) serves.</summary>
public interface IVectorShardReader : IGrainWithStringKey
{
    /// <summary>The stored rows of these keys (missing keys skipped).</summary>
    /// <param name="keys">Keys that this shard owns.</param>
    /// <param name="includeVectors">Return the vectors too.</param>
    /// <param name="minSequence">The log position the member must have applied first (0: any).</param>
    /// <param name="mapVersion">The shard-map version the caller routed with.</param>
    [AlwaysInterleave]
    Task<ShardRows> GetAsync(object[] keys, bool includeVectors, long minSequence, long mapVersion);

    /// <summary>Rows passing a filter, in order, at most <see cref="ShardQuery.Count"/>.</summary>
    /// <param name="query">The query.</param>
    [AlwaysInterleave]
    Task<ShardRows> QueryAsync(ShardQuery query);

    /// <summary>The nearest rows (closest first) of a vector or hybrid search.</summary>
    /// <param name="search">The search.</param>
    [AlwaysInterleave]
    Task<ShardRows> SearchAsync(ShardSearch search);

    /// <summary>The member's state.</summary>
    [AlwaysInterleave]
    Task<ShardStatus> GetStatusAsync();
}
