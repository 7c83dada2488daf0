namespace DeepRetrieval.Indexes;

/// <summary>
/// Codes within a Hamming radius, in compressed-row form as Faiss's <c>RangeSearchResult</c>: the results of query
/// <c>q</c> are <c>Ids[Offsets[q]..Offsets[q + 1]]</c>, ordered closest first (ties by ascending id), with whole-number distances.
/// </summary>
public sealed class BinaryRangeSearchResult : RangeSearchResult<int>
{
    /// <summary>Creates a result from compressed rows.</summary>
    /// <param name="offsets">queryCount + 1 non-decreasing offsets, starting at 0 and ending at ids.Length.</param>
    /// <param name="ids">All ids, query after query.</param>
    /// <param name="distances">One Hamming distance per id.</param>
    public BinaryRangeSearchResult(long[] offsets, long[] ids, int[] distances) : base(offsets, ids, distances)
    {
    }
}
