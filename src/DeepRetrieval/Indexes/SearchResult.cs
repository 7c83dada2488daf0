namespace DeepRetrieval.Indexes;

/// <summary>The k nearest neighbours of a batch of queries, stored row-major (query × k), with float distances or similarities.</summary>
public sealed class SearchResult : SearchResult<float>
{
    /// <summary>The id that marks a missing neighbour (fewer than k vectors exist or pass the filter).</summary>
    public const long MissingId = -1;

    /// <summary>Creates a result over existing buffers.</summary>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="ids">queryCount × k ids.</param>
    /// <param name="distances">queryCount × k distances.</param>
    public SearchResult(int queryCount, int k, long[] ids, float[] distances) : base(queryCount, k, ids, distances)
    {
    }
}
