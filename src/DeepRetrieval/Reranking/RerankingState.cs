using DeepRetrieval.Indexes;

namespace DeepRetrieval.Reranking;

/// <summary>
/// What flows through a chain of re-rankers: the query vectors, the database (which database-side augmentation
/// replaces by its augmented copy) and the current ranked lists.
/// </summary>
public sealed record RerankingState
{
    /// <summary>Creates a state, checking that its parts fit together.</summary>
    /// <param name="queries">Row-major query vectors, one per list, of the database's dimension.</param>
    /// <param name="database">The database the lists rank.</param>
    /// <param name="lists">One ranked list per query (typically an index search's output).</param>
    /// <exception cref="ArgumentException">
    /// The query vectors are not one row per list, hold NaN or infinity, or a listed id has a non-finite score.
    /// </exception>
    public RerankingState(ReadOnlyMemory<float> queries, IRerankingDatabase database, RankedLists lists)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(lists);
        long expected = (long)lists.QueryCount * database.Dimension;
        if (queries.Length != expected)
            throw new ArgumentException(
                $"queries holds {queries.Length} values but there are {lists.QueryCount} lists of a {database.Dimension}-dimensional database; it needs {expected}.",
                nameof(queries));
        if (!FiniteValues.All(queries.Span))
            throw new ArgumentException("queries holds NaN or infinity.", nameof(queries));
        for (int i = 0; i < lists.Ids.Length; i++)
        {
            if (lists.Ids[i] != SearchResult.MissingId && !float.IsFinite(lists.Scores[i]))
                throw new ArgumentException(
                    $"lists: the score of id {lists.Ids[i]} at row {i / lists.Width}, rank {i % lists.Width} is {lists.Scores[i]}; listed ids need finite scores.",
                    nameof(lists));
        }

        Queries = queries;
        Database = database;
        Lists = lists;
        OutputWidth = lists.Width;
    }

    /// <summary>Row-major query vectors, one per list.</summary>
    public ReadOnlyMemory<float> Queries { get; init; }

    /// <summary>The database the lists rank.</summary>
    public IRerankingDatabase Database { get; init; }

    /// <summary>The current ranked lists.</summary>
    public RankedLists Lists { get; init; }

    /// <summary>Number of queries.</summary>
    public int QueryCount => Lists.QueryCount;

    /// <summary>
    /// How many entries each re-ranker's output lists hold; defaults to the width of the initial lists. A re-ranker
    /// that searches again (query expansion, augmentation, diffusion) can return more than it was given.
    /// </summary>
    public int OutputWidth
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(OutputWidth));
            field = value;
        }
    }

    /// <summary>The vector of one query.</summary>
    /// <param name="query">0 ≤ query &lt; <see cref="QueryCount"/>.</param>
    public ReadOnlySpan<float> GetQuery(int query)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(query);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(query, QueryCount);
        return Queries.Span.Slice(query * Database.Dimension, Database.Dimension);
    }
}
