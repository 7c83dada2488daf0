namespace DeepRetrieval.Indexes;

/// <summary>
/// Which ids a search may return (Faiss's <c>IDSelector</c>), passed as <see cref="SearchOptions.Selector"/>. Unlike a
/// bare predicate, a selector can say how many ids it allows (<see cref="Count"/>) and list them, so an index can choose
/// its plan from the filter's selectivity: HNSW scans the allowed ids exactly when few pass and widens its beam
/// otherwise; flat and IVF indexes skip the distances of filtered-out rows.
/// </summary>
/// <remarks>
/// Use <see cref="IdSelectorBatch"/> for a set of ids (any values) and <see cref="IdSelectorBitmap"/> for dense
/// non-negative ids (one bit per id). Selectors are immutable and thread-safe; build one per filter and reuse it
/// across searches.
/// </remarks>
public abstract class IdSelector
{
    private Func<long, bool>? _predicate;

    /// <summary>Whether a search may return <paramref name="id"/>. Must be thread-safe.</summary>
    /// <param name="id">An id stored in the index.</param>
    public abstract bool Contains(long id);

    /// <summary>
    /// How many ids the selector allows (ids absent from the index included), or null when only testing each id tells;
    /// an index then estimates the selectivity by testing a sample of its ids.
    /// </summary>
    public virtual long? Count => null;

    /// <summary>The allowed ids in ascending order when the selector can list them, otherwise false.</summary>
    internal virtual bool TryGetSortedIds(out ReadOnlySpan<long> ids)
    {
        ids = default;
        return false;
    }

    /// <summary><see cref="Contains"/> as a delegate, created once.</summary>
    internal Func<long, bool> AsPredicate => _predicate ??= Contains;
}
