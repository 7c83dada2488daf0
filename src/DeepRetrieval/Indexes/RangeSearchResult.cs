namespace DeepRetrieval.Indexes;

/// <summary>
/// Neighbours within a radius, in compressed-row form as Faiss's <c>RangeSearchResult</c>: the results of query <c>q</c>
/// are <c>Ids[Offsets[q]..Offsets[q + 1]]</c>, ordered closest first (ties by ascending id), with float distances or
/// similarities.
/// </summary>
public sealed class RangeSearchResult : RangeSearchResult<float>
{
    /// <summary>Creates a result from compressed rows.</summary>
    /// <param name="offsets">queryCount + 1 non-decreasing offsets, starting at 0 and ending at ids.Length.</param>
    /// <param name="ids">All ids, query after query.</param>
    /// <param name="distances">One distance per id.</param>
    public RangeSearchResult(long[] offsets, long[] ids, float[] distances) : base(offsets, ids, distances)
    {
    }

    /// <summary>
    /// Packs per-query (key, id) lists into one result, each sorted by key then id (closest first); keys are negated
    /// back into similarities when <paramref name="negateKeys"/> is set.
    /// </summary>
    internal static RangeSearchResult Concatenate(List<(float Key, long Id)>[] perQuery, bool negateKeys)
    {
        var offsets = new long[perQuery.Length + 1];
        for (int i = 0; i < perQuery.Length; i++) offsets[i + 1] = offsets[i] + perQuery[i].Count;
        var ids = new long[offsets[^1]];
        var distances = new float[offsets[^1]];
        for (int i = 0; i < perQuery.Length; i++)
        {
            perQuery[i].Sort();
            int o = (int)offsets[i];
            foreach (var (key, id) in perQuery[i])
            {
                ids[o] = id;
                distances[o++] = negateKeys ? -key : key;
            }
        }
        return new RangeSearchResult(offsets, ids, distances);
    }
}
