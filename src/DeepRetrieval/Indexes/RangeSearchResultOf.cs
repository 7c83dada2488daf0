namespace DeepRetrieval.Indexes;

/// <summary>
/// Neighbours within a radius in compressed-row form: the results of query <c>q</c> are
/// <c>Ids[Offsets[q]..Offsets[q + 1]]</c>, closest first (ties by ascending id), with distances of type
/// <typeparamref name="TDistance"/> (floats for <see cref="RangeSearchResult"/>, bit counts for <see cref="BinaryRangeSearchResult"/>).
/// </summary>
/// <typeparam name="TDistance">How a distance is held.</typeparam>
public abstract class RangeSearchResult<TDistance> where TDistance : unmanaged
{
    /// <summary>Creates a result from compressed rows.</summary>
    /// <param name="offsets">queryCount + 1 non-decreasing offsets, starting at 0 and ending at ids.Length.</param>
    /// <param name="ids">All ids, query after query.</param>
    /// <param name="distances">One distance per id.</param>
    private protected RangeSearchResult(long[] offsets, long[] ids, TDistance[] distances)
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
    public TDistance[] Distances { get; }

    /// <summary>The ids found for one query.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<long> IdsOf(int query) => Ids.AsSpan((int)Offsets[query], (int)(Offsets[query + 1] - Offsets[query]));

    /// <summary>The distances found for one query.</summary>
    /// <param name="query">Query row.</param>
    public ReadOnlySpan<TDistance> DistancesOf(int query) => Distances.AsSpan((int)Offsets[query], (int)(Offsets[query + 1] - Offsets[query]));
}
