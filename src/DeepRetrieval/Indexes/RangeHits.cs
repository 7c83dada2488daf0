using System.Runtime.CompilerServices;

namespace DeepRetrieval.Indexes;

/// <summary>
/// One query's range-search hits, shared by every index's <c>RangeSearchCore</c>: it keeps a (key, id) pair when the key
/// lies inside the radius (distance &lt; radius, or similarity &gt; radius for similarity metrics, keys being negated
/// similarities) and the filter accepts the id; <see cref="Search"/> runs a collector per query and packs the results.
/// </summary>
internal sealed class RangeHits(float radius, bool similarity, Func<long, bool>? filter)
{
    /// <summary>The key (distance, or negated similarity) of stored row <paramref name="row"/> for a prepared query.</summary>
    public delegate float RowKey(ReadOnlySpan<float> query, int row);

    /// <summary>What a range search collects for one prepared query: offers every candidate's key and id to <paramref name="hits"/>.</summary>
    public delegate void Collector(ReadOnlySpan<float> query, int queryIndex, RangeHits hits);

    /// <summary>The pairs kept so far.</summary>
    public List<(float Key, long Id)> Found { get; } = [];

    /// <summary>True when a key lies inside the radius.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Inside(float key) => similarity ? -key > radius : key < radius;

    /// <summary>Keeps the pair when its key is inside the radius and the filter accepts its id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Offer(float key, long id)
    {
        if (Inside(key) && (filter is null || filter(id))) Found.Add((key, id));
    }

    /// <summary>An exhaustive range search: every one of <paramref name="ids"/>' first <paramref name="count"/> rows is scored by <paramref name="keyOf"/> for each prepared query.</summary>
    public static RangeSearchResult ScanAll(float[] prepared, int rows, int dimension, float radius, bool similarity, SearchOptions options,
        int count, long[] ids, RowKey keyOf) =>
        Search(prepared, rows, dimension, radius, similarity, options, (query, _, hits) =>
        {
            for (int r = 0; r < count; r++) hits.Offer(keyOf(query, r), ids[r]);
        });

    /// <summary>Packs per-query hits into one result (each query's sorted closest first).</summary>
    public static RangeSearchResult Pack(RangeHits[] perQuery, bool similarity) =>
        RangeSearchResult.Concatenate(Array.ConvertAll(perQuery, hits => hits.Found), similarity);

    /// <summary>One collector per query, all of it for each row of <paramref name="prepared"/> (queries already normalised for cosine).</summary>
    /// <param name="prepared">Row-major prepared queries.</param>
    /// <param name="rows">How many.</param>
    /// <param name="dimension">Floats per query.</param>
    /// <param name="radius">The search radius.</param>
    /// <param name="similarity">True when keys are negated similarities (results are reported as similarities).</param>
    /// <param name="options">Threads and filter.</param>
    /// <param name="collect">Offers one query's candidates.</param>
    public static RangeSearchResult Search(float[] prepared, int rows, int dimension, float radius, bool similarity, SearchOptions options, Collector collect)
    {
        var perQuery = new RangeHits[rows];
        Func<long, bool>? filter = options.Predicate;
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = options.ResolveThreads(rows) }, q =>
        {
            var hits = new RangeHits(radius, similarity, filter);
            collect(prepared.AsSpan(q * dimension, dimension), q, hits);
            perQuery[q] = hits;
        });
        return Pack(perQuery, similarity);
    }
}
