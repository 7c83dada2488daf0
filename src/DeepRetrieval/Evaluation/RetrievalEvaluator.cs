using System.Buffers;
using System.Collections.ObjectModel;
using System.Diagnostics;
using DeepRetrieval.Indexes;
using DeepRetrieval.Reranking;

namespace DeepRetrieval.Evaluation;

/// <summary>
/// Label-based evaluation of retrieval for metric learning, as in Musgrave, Belongie and Lim,
/// "A Metric Learning Reality Check" (ECCV 2020): a neighbour is relevant when it shares the query's
/// label. Computes Precision@1, hit-rate Recall@K, MAP@R and R-Precision in one pass.
/// </summary>
/// <remarks>
/// <para>Typical use: count R with <see cref="CountRelevant{TLabel}"/>, search each query for
/// k ≥ max R neighbours (k + 1 when queries are also references, then drop the self-match with
/// <see cref="ExcludeSelfMatches"/>), and call <c>Evaluate</c>.</para>
/// <para>Queries with R = 0 are skipped by every metric, as in Musgrave et al.'s implementation
/// (pytorch-metric-learning's "lone" queries). When k &lt; R, the ranks past k count as not relevant
/// and MAP@R and R-Precision still divide by R (pytorch-metric-learning divides by min(R, k));
/// <see cref="LabelRetrievalReport.TruncatedQueryCount"/> says how many queries this affected.</para>
/// <para>Tie rule: neighbour lists are taken in the order given.</para>
/// </remarks>
public static class RetrievalEvaluator
{
    // Beyond this many neighbours the relevance row comes from the pool, so a large k cannot overflow the stack.
    private const int StackLimit = 1024;

    /// <summary>
    /// Evaluates ranked neighbour labels against query labels.
    /// See <see cref="LabelRetrievalReport"/> for the formula of each metric.
    /// </summary>
    /// <typeparam name="TLabel">Label type, compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
    /// <param name="queryLabels">The label of each query.</param>
    /// <param name="neighborLabels">
    /// queryCount × <paramref name="k"/> labels of each query's neighbours, row-major, closest first, the
    /// query itself already excluded. Give a missing neighbour a label no query has.
    /// </param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="relevantCounts">For each query, R: the number of references sharing its label, itself excluded.</param>
    /// <param name="recallKs">The cut-offs at which to report Recall@K, each in 1..k and distinct; may be empty.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentException">
    /// Empty input, mismatched lengths, a repeated recall cut-off, or a row holding more label matches
    /// than its R (usually the self-match left in).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">k is not positive, a cut-off is outside 1..k, or an R is negative.</exception>
    public static LabelRetrievalReport Evaluate<TLabel>(
        ReadOnlySpan<TLabel> queryLabels,
        ReadOnlySpan<TLabel> neighborLabels,
        int k,
        ReadOnlySpan<int> relevantCounts,
        ReadOnlySpan<int> recallKs)
    {
        int queries = CheckShapes(queryLabels.Length, neighborLabels.Length, nameof(neighborLabels), k, relevantCounts.Length);
        var accumulator = new Accumulator(k, recallKs);
        EqualityComparer<TLabel> comparer = EqualityComparer<TLabel>.Default;

        bool[]? rented = null;
        Span<bool> row = k <= StackLimit ? stackalloc bool[StackLimit] : (rented = ArrayPool<bool>.Shared.Rent(k));
        row = row[..k];
        try
        {
            for (int q = 0; q < queries; q++)
            {
                TLabel label = queryLabels[q];
                ReadOnlySpan<TLabel> neighbors = neighborLabels.Slice(q * k, k);
                for (int i = 0; i < k; i++)
                    row[i] = comparer.Equals(neighbors[i], label);
                accumulator.Add(row, relevantCounts[q], q);
            }
        }
        finally
        {
            if (rented is not null)
                ArrayPool<bool>.Shared.Return(rented);
        }

        return accumulator.ToReport(queries);
    }

    /// <summary>
    /// Evaluates ranked neighbour ids, looking their labels up in <paramref name="referenceLabels"/>.
    /// See <see cref="LabelRetrievalReport"/> for the formula of each metric.
    /// </summary>
    /// <typeparam name="TLabel">Label type, compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
    /// <param name="queryLabels">The label of each query.</param>
    /// <param name="neighborIds">
    /// queryCount × <paramref name="k"/> neighbour ids, row-major, closest first, the query itself already
    /// excluded. An id is a position in <paramref name="referenceLabels"/>;
    /// <see cref="SearchResult.MissingId"/> (−1) is a missing neighbour and is never relevant.
    /// </param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="referenceLabels">The label of each reference, indexed by id.</param>
    /// <param name="relevantCounts">For each query, R: the number of references sharing its label, itself excluded.</param>
    /// <param name="recallKs">The cut-offs at which to report Recall@K, each in 1..k and distinct; may be empty.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentException">
    /// Empty input, mismatched lengths, an id outside <paramref name="referenceLabels"/>, a repeated
    /// recall cut-off, or a row holding more label matches than its R (usually the self-match left in).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">k is not positive, a cut-off is outside 1..k, or an R is negative.</exception>
    public static LabelRetrievalReport Evaluate<TLabel>(
        ReadOnlySpan<TLabel> queryLabels,
        ReadOnlySpan<long> neighborIds,
        int k,
        ReadOnlySpan<TLabel> referenceLabels,
        ReadOnlySpan<int> relevantCounts,
        ReadOnlySpan<int> recallKs)
    {
        int queries = CheckShapes(queryLabels.Length, neighborIds.Length, nameof(neighborIds), k, relevantCounts.Length);
        var accumulator = new Accumulator(k, recallKs);
        EqualityComparer<TLabel> comparer = EqualityComparer<TLabel>.Default;

        bool[]? rented = null;
        Span<bool> row = k <= StackLimit ? stackalloc bool[StackLimit] : (rented = ArrayPool<bool>.Shared.Rent(k));
        row = row[..k];
        try
        {
            for (int q = 0; q < queries; q++)
            {
                TLabel label = queryLabels[q];
                ReadOnlySpan<long> ids = neighborIds.Slice(q * k, k);
                for (int i = 0; i < k; i++)
                {
                    long id = ids[i];
                    if (id == SearchResult.MissingId)
                    {
                        row[i] = false;
                        continue;
                    }

                    if ((ulong)id >= (ulong)referenceLabels.Length)
                        throw new ArgumentException(
                            $"neighborIds[{q * k + i}] is {id}, outside referenceLabels (length {referenceLabels.Length}); ids must be reference positions or −1.",
                            nameof(neighborIds));
                    row[i] = comparer.Equals(referenceLabels[(int)id], label);
                }

                accumulator.Add(row, relevantCounts[q], q);
            }
        }
        finally
        {
            if (rented is not null)
                ArrayPool<bool>.Shared.Return(rented);
        }

        return accumulator.ToReport(queries);
    }

    /// <summary>
    /// Counts R for each query: the number of references whose label equals the query's, minus one
    /// when the queries are themselves among the references (the query is not its own match).
    /// </summary>
    /// <typeparam name="TLabel">Label type, compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
    /// <param name="queryLabels">The label of each query.</param>
    /// <param name="referenceLabels">The label of each reference.</param>
    /// <param name="queriesAreReferences">True when every query is also one of the references (evaluation of a set against itself).</param>
    /// <returns>One R per query.</returns>
    /// <exception cref="ArgumentException">
    /// Either span is empty, or <paramref name="queriesAreReferences"/> is true but a query's label does
    /// not occur among the references.
    /// </exception>
    public static int[] CountRelevant<TLabel>(ReadOnlySpan<TLabel> queryLabels, ReadOnlySpan<TLabel> referenceLabels, bool queriesAreReferences)
        where TLabel : notnull
    {
        ShapeGuard.NotEmpty(queryLabels.Length, nameof(queryLabels));
        ShapeGuard.NotEmpty(referenceLabels.Length, nameof(referenceLabels));
        var counts = new Dictionary<TLabel, int>();
        foreach (TLabel label in referenceLabels)
            counts[label] = counts.GetValueOrDefault(label) + 1;

        int[] result = new int[queryLabels.Length];
        for (int q = 0; q < queryLabels.Length; q++)
        {
            int count = counts.GetValueOrDefault(queryLabels[q]);
            if (queriesAreReferences)
            {
                if (count == 0)
                    throw new ArgumentException(
                        $"queryLabels[{q}] = {queryLabels[q]} does not occur in referenceLabels, yet queriesAreReferences is true.",
                        nameof(queryLabels));
                count--;
            }

            result[q] = count;
        }

        return result;
    }

    /// <summary>
    /// Drops each query's own id from its neighbour row, for evaluating a set against itself: search
    /// k + 1 neighbours, then keep k. When a row does not hold its query's id (an approximate search
    /// can miss it) its last neighbour is dropped instead, so every row keeps
    /// <paramref name="rowLength"/> − 1 entries.
    /// </summary>
    /// <remarks>
    /// The self-match is found by id, not by position: with duplicate vectors another item can tie with
    /// the query at distance 0 and be ranked before it.
    /// </remarks>
    /// <param name="neighborIds">queryCount × <paramref name="rowLength"/> neighbour ids, row-major, closest first.</param>
    /// <param name="rowLength">Neighbours per row in <paramref name="neighborIds"/>; at least 2.</param>
    /// <param name="queryIds">The id of each query among the references.</param>
    /// <returns>queryCount × (rowLength − 1) ids, row-major, in their original order.</returns>
    /// <exception cref="ArgumentException"><paramref name="neighborIds"/> is empty or ragged, or <paramref name="queryIds"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rowLength"/> is less than 2.</exception>
    public static long[] ExcludeSelfMatches(ReadOnlySpan<long> neighborIds, int rowLength, ReadOnlySpan<long> queryIds)
    {
        if (rowLength < 2)
            throw new ArgumentOutOfRangeException(nameof(rowLength), rowLength, "rowLength must be at least 2: one self-match plus at least one neighbour.");
        int queries = ShapeGuard.RowCount(neighborIds.Length, rowLength, nameof(neighborIds), nameof(rowLength));
        ShapeGuard.OnePerQuery(queryIds.Length, queries, nameof(queryIds));
        int width = rowLength - 1;
        long[] result = new long[queries * width];
        for (int q = 0; q < queries; q++)
        {
            ReadOnlySpan<long> source = neighborIds.Slice(q * rowLength, rowLength);
            Span<long> target = result.AsSpan(q * width, width);
            int self = source.IndexOf(queryIds[q]);
            if (self < 0)
            {
                source[..width].CopyTo(target);
            }
            else
            {
                source[..self].CopyTo(target);
                source[(self + 1)..].CopyTo(target[self..]);
            }
        }

        return result;
    }

    /// <summary>
    /// Evaluates ranked lists (an index search or a re-ranker's output) whose ids are positions in
    /// <paramref name="referenceLabels"/>; see the id overload of <c>Evaluate</c> for the rules.
    /// </summary>
    /// <typeparam name="TLabel">Label type, compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
    /// <param name="queryLabels">The label of each query.</param>
    /// <param name="lists">One list per query, the query itself already excluded; its width is k.</param>
    /// <param name="referenceLabels">The label of each reference, indexed by id.</param>
    /// <param name="relevantCounts">For each query, R: the number of references sharing its label, itself excluded.</param>
    /// <param name="recallKs">The cut-offs at which to report Recall@K, each in 1..k and distinct; may be empty.</param>
    /// <returns>The metrics.</returns>
    public static LabelRetrievalReport Evaluate<TLabel>(
        ReadOnlySpan<TLabel> queryLabels,
        RankedLists lists,
        ReadOnlySpan<TLabel> referenceLabels,
        ReadOnlySpan<int> relevantCounts,
        ReadOnlySpan<int> recallKs)
    {
        ArgumentNullException.ThrowIfNull(lists);
        return Evaluate(queryLabels, lists.Ids, lists.Width, referenceLabels, relevantCounts, recallKs);
    }

    /// <summary>
    /// Runs <paramref name="reranker"/> on <paramref name="state"/> and evaluates the lists before and after it. For a
    /// set querying itself pass the query ids: each query's own id is then dropped from both lists before scoring
    /// (so search and re-rank one entry deeper than the depth to score).
    /// </summary>
    /// <typeparam name="TLabel">Label type, compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
    /// <param name="reranker">The re-ranker (or pipeline) to measure.</param>
    /// <param name="state">Queries, database and initial lists; database ids must be positions in <paramref name="referenceLabels"/>.</param>
    /// <param name="queryLabels">The label of each query.</param>
    /// <param name="referenceLabels">The label of each database item, indexed by id.</param>
    /// <param name="relevantCounts">For each query, R: the number of references sharing its label, itself excluded.</param>
    /// <param name="recallKs">The cut-offs at which to report Recall@K; may be empty.</param>
    /// <param name="selfIds">The database id of each query when the set queries itself; empty otherwise.</param>
    /// <param name="progress">Receives the re-ranker's progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the re-ranking.</param>
    /// <returns>Metrics before and after, the re-ranked state and the re-ranker's time.</returns>
    public static RerankingReport EvaluateReranking<TLabel>(
        IReranker reranker,
        RerankingState state,
        ReadOnlySpan<TLabel> queryLabels,
        ReadOnlySpan<TLabel> referenceLabels,
        ReadOnlySpan<int> relevantCounts,
        ReadOnlySpan<int> recallKs,
        ReadOnlySpan<long> selfIds = default,
        IProgress<RerankingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reranker);
        ArgumentNullException.ThrowIfNull(state);
        RankedLists initial = selfIds.IsEmpty ? state.Lists : state.Lists.WithoutSelfMatches(selfIds);
        LabelRetrievalReport before = Evaluate(queryLabels, initial, referenceLabels, relevantCounts, recallKs);
        long started = Stopwatch.GetTimestamp();
        RerankingState reranked = reranker.Rerank(state, progress, cancellationToken);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        RankedLists after = selfIds.IsEmpty ? reranked.Lists : reranked.Lists.WithoutSelfMatches(selfIds);
        return new RerankingReport(before, Evaluate(queryLabels, after, referenceLabels, relevantCounts, recallKs), reranked, elapsed);
    }

    private static int CheckShapes(int queryCount, int neighborLength, string neighborName, int k, int countsLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ShapeGuard.NotEmpty(queryCount, "queryLabels");
        long expected = (long)queryCount * k;
        if (neighborLength != expected)
            throw new ArgumentException(
                $"{neighborName} holds {neighborLength} values but queryLabels.Length × k = {queryCount} × {k} = {expected}.",
                neighborName);
        ShapeGuard.OnePerQuery(countsLength, queryCount, "relevantCounts");
        return queryCount;
    }

    /// <summary>Running sums of every metric; one row is added per query.</summary>
    private sealed class Accumulator
    {
        private readonly int _k;
        private readonly int[] _recallKs;
        private readonly long[] _recallHits;
        private long _precisionAt1Hits;
        private double _mapAtRSum;
        private double _rPrecisionSum;
        private int _evaluated;
        private int _truncated;

        public Accumulator(int k, ReadOnlySpan<int> recallKs)
        {
            _k = k;
            _recallKs = recallKs.ToArray();
            Array.Sort(_recallKs);
            for (int i = 0; i < _recallKs.Length; i++)
            {
                if (_recallKs[i] <= 0 || _recallKs[i] > k)
                    throw new ArgumentOutOfRangeException(nameof(recallKs), _recallKs[i], $"Every recallKs value must be between 1 and k ({k}).");
                if (i > 0 && _recallKs[i] == _recallKs[i - 1])
                    throw new ArgumentException($"recallKs holds {_recallKs[i]} more than once.", nameof(recallKs));
            }

            _recallHits = new long[_recallKs.Length];
        }

        public void Add(ReadOnlySpan<bool> row, int r, int query)
        {
            RetrievalMetrics.CheckRelevantCount(row, r, query, "relevantCounts");
            if (r == 0)
                return;
            _evaluated++;
            if (r > _k)
                _truncated++;
            if (row[0])
                _precisionAt1Hits++;

            // A query hits at every cut-off beyond its first relevant rank.
            int first = row.IndexOf(true);
            if (first >= 0)
            {
                for (int i = 0; i < _recallKs.Length; i++)
                {
                    if (_recallKs[i] > first)
                        _recallHits[i]++;
                }
            }

            _mapAtRSum += RetrievalMetrics.MapAtROfRow(row, r);
            _rPrecisionSum += RetrievalMetrics.RPrecisionOfRow(row, r);
        }

        public LabelRetrievalReport ToReport(int queryCount)
        {
            double n = _evaluated;
            var recall = new SortedDictionary<int, double>();
            for (int i = 0; i < _recallKs.Length; i++)
                recall[_recallKs[i]] = _evaluated == 0 ? double.NaN : _recallHits[i] / n;
            return new LabelRetrievalReport(
                queryCount,
                _evaluated,
                _truncated,
                _k,
                _evaluated == 0 ? double.NaN : _precisionAt1Hits / n,
                new ReadOnlyDictionary<int, double>(recall),
                _evaluated == 0 ? double.NaN : _mapAtRSum / n,
                _evaluated == 0 ? double.NaN : _rPrecisionSum / n);
        }
    }
}
