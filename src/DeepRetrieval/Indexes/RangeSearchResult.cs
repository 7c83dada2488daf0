namespace DeepRetrieval.Indexes;

/// <summary>
/// Neighbours within a radius, in compressed-row form as Faiss's <c>RangeSearchResult</c>: the results of
/// query <c>q</c> are <c>Ids[Offsets[q]..Offsets[q + 1]]</c>, ordered closest first (ties by ascending id).
/// </summary>
public sealed class RangeSearchResult
{
    /// <summary>Creates a result from compressed rows.</summary>
    /// <param name="offsets">queryCount + 1 non-decreasing offsets, starting at 0 and ending at ids.Length.</param>
    /// <param name="ids">All ids, query after query.</param>
    /// <param name="distances">One distance per id.</param>
    public RangeSearchResult(long[] offsets, long[] ids, float[] distances)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(distances);
        if (offsets.Length == 0 || offsets[0] != 0 || offsets[^1] != ids.Length || ids.Length != distances.Length)
            throw new ArgumentException("offsets must start at 0 and end at ids.Length, and ids and distances must have the same length.");
        Offsets = offsets;
        Ids = ids;
        Distances = distances;
    }

    /// <summary>Number of queries.</summary>
    public int QueryCount => Offsets.Length - 1;

    /// <summary>queryCount + 1 offsets into <see cref="Ids"/> and <see cref="Distances"/>.</summary>
    public long[] Offsets { get; }

    /// <summary>All result ids, query after query.</summary>
    public long[] Ids { get; }

    /// <summary>All result distances, query after query.</summary>
    public float[] Distances { get; }

    /// <summary>The ids found for one query.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<long> IdsOf(int query) => Ids.AsSpan((int)Offsets[query], (int)(Offsets[query + 1] - Offsets[query]));

    /// <summary>The distances found for one query.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<float> DistancesOf(int query) => Distances.AsSpan((int)Offsets[query], (int)(Offsets[query + 1] - Offsets[query]));

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
