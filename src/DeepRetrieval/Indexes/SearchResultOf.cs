namespace DeepRetrieval.Indexes;

/// <summary>
/// The k nearest neighbours of a batch of queries, stored row-major (query × k): ids and distances of type
/// <typeparamref name="TDistance"/> (floats for <see cref="SearchResult"/>, whole bit counts for <see cref="BinarySearchResult"/>).
/// </summary>
/// <typeparam name="TDistance">How a distance is held.</typeparam>
public abstract class SearchResult<TDistance> where TDistance : unmanaged
{
    /// <summary>Creates a result over existing buffers.</summary>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="ids">queryCount × k ids.</param>
    /// <param name="distances">queryCount × k distances.</param>
    private protected SearchResult(int queryCount, int k, long[] ids, TDistance[] distances)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(queryCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(distances);
        long expected = (long)queryCount * k;
        if (ids.Length != expected || distances.Length != expected)
            throw new ArgumentException($"ids and distances must hold queryCount × k = {expected} values; got {ids.Length} and {distances.Length}.");
        QueryCount = queryCount;
        K = k;
        Ids = ids;
        Distances = distances;
    }

    /// <summary>Number of queries.</summary>
    public int QueryCount { get; }

    /// <summary>Neighbours per query.</summary>
    public int K { get; }

    /// <summary>Row-major ids, <see cref="SearchResult.MissingId"/> where no neighbour exists.</summary>
    public long[] Ids { get; }

    /// <summary>Row-major distances (or similarities); NaN for floats and −1 for bit counts where no neighbour exists.</summary>
    public TDistance[] Distances { get; }

    /// <summary>The ids found for one query, closest first.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<long> IdsOf(int query) => Ids.AsSpan(checked(query * K), K);

    /// <summary>The distances found for one query, closest first.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<TDistance> DistancesOf(int query) => Distances.AsSpan(checked(query * K), K);
}
