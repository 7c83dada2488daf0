using DeepRetrieval.VectorData.Scoring;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.Orleans.Routing;

/// <summary>
/// Merges the answers of several shards into the answer one index over all their records gives. Each shard returns its best
/// top + skip in the same order; the union of those holds the global best top + skip, which are sorted again and paged.
/// Ties (equal scores, equal sort values) are ordered by key, so the merged order does not depend on which shard answered
/// first.
/// </summary>
public static class RowMerge
{
    /// <summary>A candidate: the row's wire bytes, its decoded row and its score (0 for plain reads).</summary>
    /// <param name="Bytes">The row as the shard sent it.</param>
    /// <param name="Row">The decoded row.</param>
    /// <param name="Score">Its score.</param>
    public readonly record struct Candidate(byte[] Bytes, RecordRow Row, double Score);

    /// <summary>Search hits, closest first by <paramref name="convention"/> (fused scores: highest first), then by key; paged.</summary>
    /// <param name="candidates">Every shard's hits.</param>
    /// <param name="convention">The column's score convention, or null for fused hybrid scores (higher is better).</param>
    /// <param name="skip">Hits to skip.</param>
    /// <param name="top">Hits to return at most.</param>
    public static List<Candidate> Hits(IEnumerable<Candidate> candidates, ScoreConvention? convention, int skip, int top)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var list = candidates.ToList();
        list.Sort((a, b) =>
        {
            int byScore = convention is null ? b.Score.CompareTo(a.Score) : convention.CompareCloserFirst(a.Score, b.Score);
            return byScore != 0 ? byScore : ScalarValues.Compare(a.Row.Key, b.Row.Key);
        });
        return list.Skip(skip).Take(top).ToList();
    }

    /// <summary>Rows ordered by sort columns (nulls first when ascending), then by key; paged.</summary>
    /// <param name="candidates">Every shard's rows.</param>
    /// <param name="schema">The schema the columns belong to.</param>
    /// <param name="orderBy">Sort columns (storage names of the key or single-value data columns) and directions.</param>
    /// <param name="skip">Rows to skip.</param>
    /// <param name="top">Rows to return at most.</param>
    /// <exception cref="InvalidOperationException">A sort column is not the key or a data column.</exception>
    public static List<Candidate> Ordered(IEnumerable<Candidate> candidates, RecordSchema schema, IReadOnlyList<OrderByColumn> orderBy, int skip, int top)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(orderBy);
        var accessors = orderBy.Select(o =>
        {
            if (o.Column == schema.Key.Name) return ((Func<RecordRow, object?>)(r => r.Key), o.Ascending);
            int d = schema.DataColumnIndex(o.Column);
            if (d < 0) throw new InvalidOperationException($"Cannot order by '{o.Column}': it is not the key or a data column.");
            return ((Func<RecordRow, object?>)(r => r.GetValue(d)), o.Ascending);
        }).ToArray();
        var list = candidates.ToList();
        list.Sort((a, b) =>
        {
            foreach (var (get, ascending) in accessors)
            {
                int c = CompareNullsFirst(get(a.Row), get(b.Row));
                if (c != 0) return ascending ? c : -c;
            }
            return ScalarValues.Compare(a.Row.Key, b.Row.Key);
        });
        return list.Skip(skip).Take(top).ToList();
    }

    private static int CompareNullsFirst(object? a, object? b) =>
        a is null ? (b is null ? 0 : -1) : b is null ? 1 : ScalarValues.Compare(a, b);
}
