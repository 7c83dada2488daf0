using System.Buffers;
using System.Numerics;

namespace DeepRetrieval.Evaluation;

/// <summary>
/// Metrics of ranked result lists with binary relevance: hit-rate Recall@K, Precision@K, average
/// precision and mAP, and the R-Precision and MAP@R of Musgrave, Belongie and Lim,
/// "A Metric Learning Reality Check" (ECCV 2020).
/// </summary>
/// <remarks>
/// <para>Most methods take a relevance matrix: queryCount × <c>listLength</c> booleans, row-major, where
/// <c>relevance[q·listLength + i]</c> is true when the item at rank <c>i + 1</c> of query <c>q</c> is
/// relevant. A missing neighbour is simply not relevant.</para>
/// <para>Tie rule for ranked lists: the order is taken as given. Items the search scored equally keep
/// the order the caller supplies (this library's indexes order them by ascending id). Only
/// <see cref="AveragePrecision(ReadOnlySpan{float}, ReadOnlySpan{bool})"/>, which ranks by score itself,
/// applies its own rule.</para>
/// <para>Ranks are 1-based in the formulas: <c>rel(i)</c> is 1 when the item at rank i is relevant, else 0,
/// and <c>P(i) = (1/i) Σ_{j ≤ i} rel(j)</c> is the precision of the first i items.</para>
/// </remarks>
public static class RetrievalMetrics
{
    /// <summary>
    /// Hit-rate Recall@K as metric learning reports it (Musgrave et al. 2020 and the deep metric
    /// learning literature): the fraction of queries with at least one relevant item in their first
    /// <paramref name="k"/> ranks, <c>(1/Q) Σ_q [Σ_{i ≤ k} rel_q(i) ≥ 1]</c>.
    /// </summary>
    /// <remarks>
    /// <para>Every row counts, including rows of queries that have nothing relevant anywhere (they count
    /// as misses). <see cref="RetrievalEvaluator"/> skips such queries, as Musgrave et al. do.</para>
    /// <para>This is not the neighbour-overlap recall of ANN benchmarks; for that see
    /// <see cref="NeighborRecall.RecallAtK(ReadOnlySpan{long}, int, ReadOnlySpan{long}, int, int)"/>.</para>
    /// <para>Tie rule: the ranked order is taken as given.</para>
    /// </remarks>
    /// <param name="relevance">queryCount × <paramref name="listLength"/> relevance flags, row-major, best rank first.</param>
    /// <param name="listLength">Row length of <paramref name="relevance"/>.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ listLength.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="relevance"/> is empty or ragged.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="listLength"/> is not positive or k is out of range.</exception>
    public static double RecallAtK(ReadOnlySpan<bool> relevance, int listLength, int k)
    {
        int queries = ShapeGuard.RowCount(relevance.Length, listLength, nameof(relevance), nameof(listLength));
        ShapeGuard.CutOff(k, listLength, nameof(k), nameof(listLength));
        int hits = 0;
        for (int q = 0; q < queries; q++)
        {
            if (relevance.Slice(q * listLength, k).Contains(true))
                hits++;
        }

        return hits / (double)queries;
    }

    /// <summary>
    /// Precision@K: the mean over queries of the fraction of the first <paramref name="k"/> ranks that
    /// are relevant, <c>(1/Q) Σ_q (1/k) Σ_{i ≤ k} rel_q(i)</c>.
    /// </summary>
    /// <remarks>
    /// The denominator is always k, even for a query with fewer than k relevant items in existence.
    /// Tie rule: the ranked order is taken as given.
    /// </remarks>
    /// <param name="relevance">queryCount × <paramref name="listLength"/> relevance flags, row-major, best rank first.</param>
    /// <param name="listLength">Row length of <paramref name="relevance"/>.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ listLength.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="relevance"/> is empty or ragged.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="listLength"/> is not positive or k is out of range.</exception>
    public static double PrecisionAtK(ReadOnlySpan<bool> relevance, int listLength, int k)
    {
        int queries = ShapeGuard.RowCount(relevance.Length, listLength, nameof(relevance), nameof(listLength));
        ShapeGuard.CutOff(k, listLength, nameof(k), nameof(listLength));
        long relevant = 0;
        for (int q = 0; q < queries; q++)
            relevant += relevance.Slice(q * listLength, k).Count(true);
        return relevant / ((double)queries * k);
    }

    /// <summary>
    /// Average precision of one ranked list of length n:
    /// <c>AP = (1/N_rel) Σ_{i=1..n} P(i)·rel(i)</c>, where <c>N_rel</c> = <paramref name="totalRelevant"/>
    /// is the number of relevant items that exist for the query, retrieved or not.
    /// </summary>
    /// <remarks>
    /// Passing the true total makes truncated lists score correctly: relevant items that were never
    /// retrieved contribute 0 to the sum but still count in the denominator.
    /// Tie rule: the ranked order is taken as given.
    /// </remarks>
    /// <param name="rankedRelevance">Relevance flags of the list, best rank first.</param>
    /// <param name="totalRelevant">Number of relevant items for the query; at least the number flagged in the list, and positive.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="rankedRelevance"/> is empty or flags more relevant items than <paramref name="totalRelevant"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="totalRelevant"/> is not positive.</exception>
    public static double AveragePrecision(ReadOnlySpan<bool> rankedRelevance, int totalRelevant)
    {
        ShapeGuard.NotEmpty(rankedRelevance.Length, nameof(rankedRelevance));
        if (totalRelevant <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalRelevant), totalRelevant, "totalRelevant must be positive; average precision is undefined for a query with nothing relevant.");
        int flagged = rankedRelevance.Count(true);
        if (flagged > totalRelevant)
            throw new ArgumentException($"rankedRelevance flags {flagged} relevant items but totalRelevant is {totalRelevant}; the total must count every relevant item.", nameof(totalRelevant));
        return AveragePrecisionOfRow(rankedRelevance, totalRelevant);
    }

    /// <summary>
    /// Average precision of a scored candidate set, ranked by descending score:
    /// <c>AP = (1/N_rel) Σ_{i=1..n} P(i)·rel(i)</c>, where <c>N_rel</c> is the number of true values in
    /// <paramref name="relevant"/>.
    /// </summary>
    /// <remarks>
    /// Tie rule (pessimistic): among candidates with equal scores, every non-relevant one is ranked
    /// before every relevant one. The result therefore never depends on input order and never
    /// rewards a scorer for ties; it is the lowest AP any tie-breaking could give.
    /// </remarks>
    /// <param name="scores">One score per candidate; larger means more relevant. NaN is rejected.</param>
    /// <param name="relevant">Whether each candidate is relevant; at least one must be.</param>
    /// <returns>A value in (0, 1].</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a NaN score, or no relevant candidate.</exception>
    public static double AveragePrecision(ReadOnlySpan<float> scores, ReadOnlySpan<bool> relevant)
        => AveragePrecisionFromScores(scores, relevant);

    /// <summary>
    /// Average precision of a scored candidate set, ranked by descending score:
    /// <c>AP = (1/N_rel) Σ_{i=1..n} P(i)·rel(i)</c>, where <c>N_rel</c> is the number of true values in
    /// <paramref name="relevant"/>.
    /// </summary>
    /// <remarks>
    /// Tie rule (pessimistic): among candidates with equal scores, every non-relevant one is ranked
    /// before every relevant one, giving the lowest AP any tie-breaking could give.
    /// </remarks>
    /// <param name="scores">One score per candidate; larger means more relevant. NaN is rejected.</param>
    /// <param name="relevant">Whether each candidate is relevant; at least one must be.</param>
    /// <returns>A value in (0, 1].</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a NaN score, or no relevant candidate.</exception>
    public static double AveragePrecision(ReadOnlySpan<double> scores, ReadOnlySpan<bool> relevant)
        => AveragePrecisionFromScores(scores, relevant);

    /// <summary>
    /// Mean average precision over queries:
    /// <c>mAP = (1/|Q'|) Σ_{q ∈ Q'} (1/N_q) Σ_{i=1..listLength} P_q(i)·rel_q(i)</c>, where
    /// <c>N_q</c> = <c>totalRelevant[q]</c> and <c>Q'</c> is the set of queries with <c>N_q &gt; 0</c>.
    /// </summary>
    /// <remarks>
    /// <para>Queries with <c>totalRelevant[q] = 0</c> are skipped: their AP is undefined. When every
    /// query is skipped the result is <see cref="double.NaN"/>.</para>
    /// <para>Tie rule: the ranked order is taken as given.</para>
    /// </remarks>
    /// <param name="relevance">queryCount × <paramref name="listLength"/> relevance flags, row-major, best rank first.</param>
    /// <param name="listLength">Row length of <paramref name="relevance"/>.</param>
    /// <param name="totalRelevant">For each query, the number of relevant items that exist, retrieved or not.</param>
    /// <returns>A value in [0, 1], or NaN when no query has a relevant item.</returns>
    /// <exception cref="ArgumentException">Empty or ragged input, a count span of the wrong length, or a row flagging more relevant items than its total.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="listLength"/> is not positive or a total is negative.</exception>
    public static double MeanAveragePrecision(ReadOnlySpan<bool> relevance, int listLength, ReadOnlySpan<int> totalRelevant)
    {
        return MeanOverQueries(relevance, listLength, totalRelevant, nameof(totalRelevant), AveragePrecisionOfRow);
    }

    /// <summary>
    /// R-Precision (Musgrave et al. 2020): for each query with <c>R_q</c> relevant references,
    /// <c>RP_q = (1/R_q) Σ_{i=1..R_q} rel_q(i)</c>, averaged over the queries with <c>R_q &gt; 0</c>.
    /// </summary>
    /// <remarks>
    /// <para><c>R_q</c> is the number of references sharing the query's label, the query itself excluded
    /// (see <see cref="RetrievalEvaluator.CountRelevant{TLabel}"/>).</para>
    /// <para>Queries with <c>R_q = 0</c> are skipped, as in Musgrave et al.'s implementation; when every
    /// query is skipped the result is <see cref="double.NaN"/>.</para>
    /// <para>When <paramref name="listLength"/> &lt; <c>R_q</c>, the ranks beyond the list count as not
    /// relevant and the denominator stays <c>R_q</c>, so the value is a lower bound of the exact one.
    /// (pytorch-metric-learning instead divides by min(R, k) in that case.)</para>
    /// <para>Tie rule: the ranked order is taken as given.</para>
    /// </remarks>
    /// <param name="relevance">queryCount × <paramref name="listLength"/> relevance flags, row-major, best rank first, the query itself excluded.</param>
    /// <param name="listLength">Row length of <paramref name="relevance"/>.</param>
    /// <param name="relevantCounts">R for each query.</param>
    /// <returns>A value in [0, 1], or NaN when every R is 0.</returns>
    /// <exception cref="ArgumentException">Empty or ragged input, a count span of the wrong length, or a row flagging more relevant items than its R.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="listLength"/> is not positive or an R is negative.</exception>
    public static double RPrecision(ReadOnlySpan<bool> relevance, int listLength, ReadOnlySpan<int> relevantCounts)
    {
        return MeanOverQueries(relevance, listLength, relevantCounts, nameof(relevantCounts), RPrecisionOfRow);
    }

    /// <summary>
    /// MAP@R (Musgrave et al. 2020): for each query with <c>R_q</c> relevant references,
    /// <c>MAP@R_q = (1/R_q) Σ_{i=1..R_q} P_q(i)·rel_q(i)</c>, averaged over the queries with <c>R_q &gt; 0</c>.
    /// </summary>
    /// <remarks>
    /// <para><c>R_q</c> is the number of references sharing the query's label, the query itself excluded
    /// (see <see cref="RetrievalEvaluator.CountRelevant{TLabel}"/>).</para>
    /// <para>Queries with <c>R_q = 0</c> are skipped, as in Musgrave et al.'s implementation; when every
    /// query is skipped the result is <see cref="double.NaN"/>.</para>
    /// <para>Exactness needs lists at least <c>R_q</c> long. When <paramref name="listLength"/> &lt; <c>R_q</c>,
    /// the ranks beyond the list count as not relevant and the denominator stays <c>R_q</c>, so the
    /// value is a lower bound of the exact one. (pytorch-metric-learning instead divides by min(R, k)
    /// in that case.)</para>
    /// <para>Tie rule: the ranked order is taken as given.</para>
    /// </remarks>
    /// <param name="relevance">queryCount × <paramref name="listLength"/> relevance flags, row-major, best rank first, the query itself excluded.</param>
    /// <param name="listLength">Row length of <paramref name="relevance"/>.</param>
    /// <param name="relevantCounts">R for each query.</param>
    /// <returns>A value in [0, 1], or NaN when every R is 0.</returns>
    /// <exception cref="ArgumentException">Empty or ragged input, a count span of the wrong length, or a row flagging more relevant items than its R.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="listLength"/> is not positive or an R is negative.</exception>
    public static double MeanAveragePrecisionAtR(ReadOnlySpan<bool> relevance, int listLength, ReadOnlySpan<int> relevantCounts)
    {
        return MeanOverQueries(relevance, listLength, relevantCounts, nameof(relevantCounts), MapAtROfRow);
    }

    private delegate double RowMetric(ReadOnlySpan<bool> row, int relevantCount);

    // The mean of a per-row metric over the queries with at least one relevant item (NaN when there are none).
    private static double MeanOverQueries(ReadOnlySpan<bool> relevance, int listLength, ReadOnlySpan<int> relevantCounts, string countsName, RowMetric metric)
    {
        int queries = ShapeGuard.RowCount(relevance.Length, listLength, nameof(relevance), nameof(listLength));
        ShapeGuard.OnePerQuery(relevantCounts.Length, queries, countsName);
        double sum = 0;
        int evaluated = 0;
        for (int q = 0; q < queries; q++)
        {
            ReadOnlySpan<bool> row = relevance.Slice(q * listLength, listLength);
            int count = relevantCounts[q];
            CheckRelevantCount(row, count, q, countsName);
            if (count == 0)
                continue;
            sum += metric(row, count);
            evaluated++;
        }

        return evaluated == 0 ? double.NaN : sum / evaluated;
    }

    /// <summary>(1/total) Σ_i P(i)·rel(i) over the whole row; the caller has validated total.</summary>
    internal static double AveragePrecisionOfRow(ReadOnlySpan<bool> row, int totalRelevant)
    {
        double sum = 0;
        int hits = 0;
        for (int i = 0; i < row.Length; i++)
        {
            if (row[i])
            {
                hits++;
                sum += hits / (double)(i + 1);
            }
        }

        return sum / totalRelevant;
    }

    /// <summary>MAP@R of one row: AP cut at rank R but still divided by R.</summary>
    internal static double MapAtROfRow(ReadOnlySpan<bool> row, int r)
        => AveragePrecisionOfRow(row[..Math.Min(r, row.Length)], r);

    /// <summary>R-Precision of one row; ranks past the row's end are not relevant.</summary>
    internal static double RPrecisionOfRow(ReadOnlySpan<bool> row, int r)
        => row[..Math.Min(r, row.Length)].Count(true) / (double)r;

    /// <summary>
    /// Rejects a negative count, or a row with more relevant items than its count claims; the latter
    /// usually means the query was left in its own neighbour list or R was counted on the wrong set.
    /// </summary>
    internal static void CheckRelevantCount(ReadOnlySpan<bool> row, int count, int query, string countsName)
    {
        if (count < 0)
            throw new ArgumentOutOfRangeException(countsName, count, $"{countsName}[{query}] is negative.");
        int flagged = row.Count(true);
        if (flagged > count)
            throw new ArgumentException(
                $"{countsName}[{query}] is {count} but row {query} holds {flagged} relevant items; the count must cover every relevant item (was the query left in its own neighbour list?).",
                countsName);
    }

    private static double AveragePrecisionFromScores<T>(ReadOnlySpan<T> scores, ReadOnlySpan<bool> relevant)
        where T : IFloatingPointIeee754<T>
    {
        ShapeGuard.NotEmpty(scores.Length, nameof(scores));
        ShapeGuard.SameLength(relevant.Length, scores.Length, nameof(relevant), nameof(scores));
        int n = scores.Length;
        int totalRelevant = relevant.Count(true);
        if (totalRelevant == 0)
            throw new ArgumentException("relevant has no true value; average precision is undefined without a relevant candidate.", nameof(relevant));

        double[] keys = ArrayPool<double>.Shared.Rent(n);
        bool[] flags = ArrayPool<bool>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                if (T.IsNaN(scores[i]))
                    throw new ArgumentException($"scores[{i}] is NaN.", nameof(scores));
                keys[i] = double.CreateChecked(scores[i]);
                flags[i] = relevant[i];
            }

            Span<double> keySpan = keys.AsSpan(0, n);
            Span<bool> flagSpan = flags.AsSpan(0, n);
            keySpan.Sort(flagSpan);

            // Walk tie groups from the highest score down. Within a group the pessimistic rule puts its
            // p relevant items at the group's last p ranks, so only p and the group size matter.
            double sum = 0;
            int ranked = 0, hits = 0;
            int end = n;
            while (end > 0)
            {
                int start = end - 1;
                while (start > 0 && keySpan[start - 1] == keySpan[end - 1])
                    start--;
                int size = end - start;
                int groupRelevant = flagSpan[start..end].Count(true);
                int firstRelevantRank = ranked + size - groupRelevant + 1;
                for (int j = 0; j < groupRelevant; j++)
                    sum += (hits + j + 1) / (double)(firstRelevantRank + j);
                hits += groupRelevant;
                ranked += size;
                end = start;
            }

            return sum / totalRelevant;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(keys);
            ArrayPool<bool>.Shared.Return(flags);
        }
    }
}
