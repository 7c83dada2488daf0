namespace DeepRetrieval.Indexes;

/// <summary>The k nearest codes of a batch of query codes, stored row-major (query × k), with whole-number Hamming distances (−1 where missing).</summary>
public sealed class BinarySearchResult : SearchResult<int>
{
    /// <summary>Creates a result over existing buffers.</summary>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="ids">queryCount × k ids.</param>
    /// <param name="distances">queryCount × k Hamming distances.</param>
    public BinarySearchResult(int queryCount, int k, long[] ids, int[] distances) : base(queryCount, k, ids, distances)
    {
    }
}
