namespace DeepRetrieval.Indexes;

/// <summary>
/// Allows the ids of a given set (Faiss's <c>IDSelectorBatch</c>): membership by hash lookup, the ids also kept sorted
/// so a selective filter can be searched by scanning exactly these ids.
/// </summary>
public sealed class IdSelectorBatch : IdSelector
{
    private readonly HashSet<long> _set;
    private readonly long[] _sorted;

    /// <summary>Allows exactly <paramref name="ids"/> (duplicates are ignored; an empty set allows nothing).</summary>
    /// <param name="ids">The ids a search may return.</param>
    public IdSelectorBatch(ReadOnlySpan<long> ids)
    {
        _set = new HashSet<long>(ids.Length);
        foreach (long id in ids) _set.Add(id);
        _sorted = [.. _set];
        Array.Sort(_sorted);
    }

    /// <inheritdoc />
    public override bool Contains(long id) => _set.Contains(id);

    /// <inheritdoc />
    public override long? Count => _sorted.Length;

    /// <summary>The allowed ids in ascending order.</summary>
    public ReadOnlySpan<long> Ids => _sorted;

    internal override bool TryGetSortedIds(out ReadOnlySpan<long> ids)
    {
        ids = _sorted;
        return true;
    }
}
