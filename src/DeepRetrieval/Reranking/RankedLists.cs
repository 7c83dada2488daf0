using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// One ranked list of database ids per query, all of the same <see cref="Width"/>, stored row-major with a score per
/// entry: what an index search returns and what every re-ranker takes and gives back. A row shorter than the width
/// ends in <see cref="SearchResult.MissingId"/> (−1) entries with a NaN score, as index searches mark them.
/// </summary>
public sealed class RankedLists
{
    /// <summary>Wraps row-major ids and scores (not copied).</summary>
    /// <param name="queryCount">Number of lists; positive.</param>
    /// <param name="width">Entries per list; positive.</param>
    /// <param name="ids">queryCount × width database ids, best first; −1 marks a missing entry.</param>
    /// <param name="scores">queryCount × width scores, one per id.</param>
    /// <param name="order">Whether the scores are distances or similarities.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive.</exception>
    /// <exception cref="ArgumentException">The arrays do not hold queryCount × width values, or an id is below −1.</exception>
    public RankedLists(int queryCount, int width, long[] ids, float[] scores, ScoreOrder order)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(scores);
        long expected = (long)queryCount * width;
        if (ids.LongLength != expected)
            throw new ArgumentException($"ids holds {ids.LongLength} values but queryCount × width = {queryCount} × {width} = {expected}.", nameof(ids));
        if (scores.LongLength != expected)
            throw new ArgumentException($"scores holds {scores.LongLength} values but queryCount × width = {queryCount} × {width} = {expected}.", nameof(scores));
        int bad = ids.AsSpan().IndexOfAnyInRange(long.MinValue, SearchResult.MissingId - 1);
        if (bad >= 0)
            throw new ArgumentException($"ids[{bad}] is {ids[bad]}; ids are non-negative, or −1 for a missing entry.", nameof(ids));
        if (!Enum.IsDefined(order))
            throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown score order.");
        QueryCount = queryCount;
        Width = width;
        Ids = ids;
        Scores = scores;
        Order = order;
    }

    /// <summary>Number of lists (queries).</summary>
    public int QueryCount { get; }

    /// <summary>Entries per list.</summary>
    public int Width { get; }

    /// <summary>All ids, row-major: list q occupies <c>[q × Width, (q + 1) × Width)</c>.</summary>
    public long[] Ids { get; }

    /// <summary>All scores, aligned with <see cref="Ids"/>.</summary>
    public float[] Scores { get; }

    /// <summary>Whether the scores are distances (smaller first) or similarities (larger first).</summary>
    public ScoreOrder Order { get; }

    /// <summary>The ids of one list, best first.</summary>
    /// <param name="query">List index, 0 ≤ query &lt; <see cref="QueryCount"/>.</param>
    public ReadOnlySpan<long> GetIds(int query)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(query);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(query, QueryCount);
        return Ids.AsSpan(query * Width, Width);
    }

    /// <summary>The scores of one list, aligned with <see cref="GetIds"/>.</summary>
    /// <param name="query">List index, 0 ≤ query &lt; <see cref="QueryCount"/>.</param>
    public ReadOnlySpan<float> GetScores(int query)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(query);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(query, QueryCount);
        return Scores.AsSpan(query * Width, Width);
    }

    /// <summary>
    /// Wraps the output of <see cref="IVectorIndex.Search"/>: distances for <see cref="Metric.L2"/>, similarities for
    /// the other metrics.
    /// </summary>
    /// <param name="queryCount">Number of queries searched.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="ids">The ids the search wrote.</param>
    /// <param name="distances">The distances or similarities the search wrote.</param>
    /// <param name="metric">The metric of the index searched.</param>
    public static RankedLists FromSearch(int queryCount, int k, long[] ids, float[] distances, Metric metric) =>
        new(queryCount, k, ids, distances, OrderOf(metric));

    /// <summary>The score order an index of <paramref name="metric"/> returns.</summary>
    /// <param name="metric">An index metric.</param>
    public static ScoreOrder OrderOf(Metric metric) => metric switch
    {
        Metric.L2 => ScoreOrder.SmallerIsBetter,
        Metric.InnerProduct or Metric.Cosine => ScoreOrder.LargerIsBetter,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
    };

    /// <summary>
    /// Drops each query's own id from its list, for a set querying itself (see
    /// <see cref="Evaluation.RetrievalEvaluator.ExcludeSelfMatches"/>): the result is one entry narrower, and a list that does
    /// not hold its query's id loses its last entry instead.
    /// </summary>
    /// <param name="queryIds">The database id of each query.</param>
    /// <returns>New lists of width <see cref="Width"/> − 1.</returns>
    /// <exception cref="ArgumentException"><paramref name="queryIds"/> does not hold one id per list.</exception>
    /// <exception cref="InvalidOperationException">The lists have width 1.</exception>
    public RankedLists WithoutSelfMatches(ReadOnlySpan<long> queryIds)
    {
        if (Width < 2)
            throw new InvalidOperationException("Lists of width 1 cannot lose their self-match and keep an entry.");
        ShapeGuard.OnePerQuery(queryIds.Length, QueryCount, nameof(queryIds));
        int width = Width - 1;
        var ids = new long[(long)QueryCount * width];
        var scores = new float[ids.Length];
        for (int q = 0; q < QueryCount; q++)
        {
            ReadOnlySpan<long> sourceIds = GetIds(q);
            ReadOnlySpan<float> sourceScores = GetScores(q);
            int self = sourceIds.IndexOf(queryIds[q]);
            if (self < 0) self = width;
            Span<long> targetIds = ids.AsSpan(q * width, width);
            Span<float> targetScores = scores.AsSpan(q * width, width);
            sourceIds[..self].CopyTo(targetIds);
            sourceScores[..self].CopyTo(targetScores);
            sourceIds[(self + 1)..].CopyTo(targetIds[self..]);
            sourceScores[(self + 1)..].CopyTo(targetScores[self..]);
        }

        return new RankedLists(QueryCount, width, ids, scores, Order);
    }

    /// <summary>Keeps the first <paramref name="width"/> entries of every list.</summary>
    /// <param name="width">New width, 1 ≤ width ≤ <see cref="Width"/>.</param>
    public RankedLists Truncate(int width)
    {
        ShapeGuard.CutOff(width, Width, nameof(width), nameof(Width));
        if (width == Width) return this;
        var ids = new long[(long)QueryCount * width];
        var scores = new float[ids.Length];
        for (int q = 0; q < QueryCount; q++)
        {
            GetIds(q)[..width].CopyTo(ids.AsSpan(q * width, width));
            GetScores(q)[..width].CopyTo(scores.AsSpan(q * width, width));
        }

        return new RankedLists(QueryCount, width, ids, scores, Order);
    }
}
