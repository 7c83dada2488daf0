namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// The stateless router (one activation per silo and core, next to its caller): routes writes to shard primaries by key hash,
/// fans reads out to one member of every shard's replica set (failing over to the others) and merges the answers exactly.
/// </summary>
public interface IVectorRouterGrain : IGrainWithIntegerKey
{
    /// <summary>Upserts rows, each to the primary of the shard owning its key.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="rows">Validated rows (<c>RecordCodec.EncodeRow</c>), one per distinct key.</param>
    /// <param name="keys">Their keys, in the same order.</param>
    Task<RoutedWrite> UpsertAsync(CollectionDescriptor collection, byte[][] rows, object[] keys);

    /// <summary>Deletes records by key.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="keys">The keys.</param>
    Task<RoutedWrite> DeleteAsync(CollectionDescriptor collection, object[] keys);

    /// <summary>Reads records by key, in request order (missing keys skipped).</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="keys">The keys.</param>
    /// <param name="includeVectors">Return the vectors too.</param>
    /// <param name="session">Consistency and the caller's acknowledged positions.</param>
    Task<RoutedRows> GetAsync(CollectionDescriptor collection, object[] keys, bool includeVectors, ReadSession session);

    /// <summary>Rows passing a filter, ordered (then by key), paged across all shards.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="query">The query; <see cref="ShardQuery.Count"/> is top + skip.</param>
    /// <param name="skip">Rows to skip.</param>
    /// <param name="session">Consistency and the caller's acknowledged positions.</param>
    Task<RoutedRows> QueryAsync(CollectionDescriptor collection, ShardQuery query, int skip, ReadSession session);

    /// <summary>The nearest records across all shards, merged closest first (ties by key), paged.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="search">The search; <see cref="ShardSearch.Count"/> is top + skip.</param>
    /// <param name="skip">Results to skip.</param>
    /// <param name="session">Consistency and the caller's acknowledged positions.</param>
    Task<RoutedRows> SearchAsync(CollectionDescriptor collection, ShardSearch search, int skip, ReadSession session);
}
