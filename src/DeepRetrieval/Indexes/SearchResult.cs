namespace DeepRetrieval.Indexes;

/// <summary>The k nearest neighbours of a batch of queries, stored row-major (query × k).</summary>
public sealed class SearchResult
{
    /// <summary>The id that marks a missing neighbour (fewer than k vectors exist or pass the filter).</summary>
    public const long MissingId = -1;

    /// <summary>Creates a result over existing buffers.</summary>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="ids">queryCount × k ids.</param>
    /// <param name="distances">queryCount × k distances.</param>
    public SearchResult(int queryCount, int k, long[] ids, float[] distances)
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

    /// <summary>Row-major ids, <see cref="MissingId"/> where no neighbour exists.</summary>
    public long[] Ids { get; }

    /// <summary>Row-major distances (or similarities), NaN where no neighbour exists.</summary>
    public float[] Distances { get; }

    /// <summary>The ids found for one query, closest first.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<long> IdsOf(int query) => Ids.AsSpan(checked(query * K), K);

    /// <summary>The distances found for one query, closest first.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<float> DistancesOf(int query) => Distances.AsSpan(checked(query * K), K);
}
