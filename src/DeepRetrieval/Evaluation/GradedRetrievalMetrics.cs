using System.Buffers;

namespace DeepRetrieval.Evaluation;

/// <summary>
/// Metrics of ranked result lists with graded (non-negative, usually small integer) relevance:
/// DCG@K and NDCG@K with the exponential gain of Burges et al. (2005).
/// </summary>
/// <remarks>
/// <para>Formulas, with 1-based rank i and grade <c>rel(i)</c>:
/// <c>DCG@K = Σ_{i=1..min(K, n)} (2^rel(i) − 1) / log2(i + 1)</c>;
/// <c>IDCG@K</c> is the DCG@K of the query's grades sorted in descending order;
/// <c>NDCG@K = DCG@K / IDCG@K</c>, and NDCG@K = 0 when IDCG@K = 0 (the query has nothing relevant,
/// so no ranking can gain anything; this follows scikit-learn's <c>ndcg_score</c>).</para>
/// <para>Grades must be finite and non-negative, so NDCG stays in [0, 1].</para>
/// <para>Tie rule: the ranked order is taken as given (this library's indexes order equal distances by
/// ascending id). The ideal ordering has no ties to break: equal grades give equal gains.</para>
/// </remarks>
public static class GradedRetrievalMetrics
{
    // A DCG may exceed its IDCG by rounding alone when the two sums run in different orders.
    private const double RelativeTolerance = 1e-9;

    /// <summary>
    /// Discounted cumulative gain of one ranked list:
    /// <c>DCG@K = Σ_{i=1..min(K, n)} (2^rel(i) − 1) / log2(i + 1)</c>.
    /// </summary>
    /// <remarks>
    /// Ranks past the end of a list shorter than <paramref name="k"/> count as grade 0.
    /// Tie rule: the ranked order is taken as given.
    /// </remarks>
    /// <param name="rankedRelevance">Grade of each retrieved item, best rank first.</param>
    /// <param name="k">Cut-off, at least 1.</param>
    /// <returns>A non-negative value.</returns>
    /// <exception cref="ArgumentException"><paramref name="rankedRelevance"/> is empty or holds a negative or non-finite grade.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
    public static double DcgAtK(ReadOnlySpan<double> rankedRelevance, int k)
    {
        ShapeGuard.NotEmpty(rankedRelevance.Length, nameof(rankedRelevance));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        CheckGrades(rankedRelevance, nameof(rankedRelevance));
        return Dcg(rankedRelevance, k);
    }

    /// <summary>
    /// Normalised DCG of one ranked list: <c>NDCG@K = DCG@K / IDCG@K</c>, where IDCG@K is the DCG@K of
    /// <paramref name="idealRelevance"/> sorted in descending order; NDCG@K = 0 when IDCG@K = 0.
    /// </summary>
    /// <remarks>
    /// <para><paramref name="idealRelevance"/> must hold the grade of every item that could be retrieved
    /// for the query (at least every item with a non-zero grade), retrieved or not, in any order. Taking
    /// the ideal from the retrieved list alone would score a list that misses relevant items as perfect.</para>
    /// <para>Ranks past the end of a list shorter than <paramref name="k"/> count as grade 0.</para>
    /// <para>Tie rule: the ranked order is taken as given.</para>
    /// </remarks>
    /// <param name="rankedRelevance">Grade of each retrieved item, best rank first.</param>
    /// <param name="idealRelevance">Grades of all judged items for the query, any order; may be empty when nothing is relevant.</param>
    /// <param name="k">Cut-off, at least 1.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="rankedRelevance"/> is empty, a grade is negative or non-finite, or the ranked list
    /// gains more than <paramref name="idealRelevance"/> allows (the ideal grades are incomplete).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
    public static double NdcgAtK(ReadOnlySpan<double> rankedRelevance, ReadOnlySpan<double> idealRelevance, int k)
    {
        ShapeGuard.NotEmpty(rankedRelevance.Length, nameof(rankedRelevance));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        CheckGrades(rankedRelevance, nameof(rankedRelevance));
        CheckGrades(idealRelevance, nameof(idealRelevance));
        double[] scratch = ArrayPool<double>.Shared.Rent(Math.Max(1, idealRelevance.Length));
        try
        {
            return Ndcg(rankedRelevance, idealRelevance, k, scratch, query: -1);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Mean NDCG@K over queries: <c>(1/Q) Σ_q NDCG@K_q</c>, with
    /// <c>NDCG@K_q = DCG@K_q / IDCG@K_q</c> and NDCG@K_q = 0 when IDCG@K_q = 0.
    /// </summary>
    /// <remarks>
    /// <para>Row q of <paramref name="idealRelevance"/> holds the grades of every judged item of query q,
    /// in any order, padded with zeros to <paramref name="idealLength"/> (zeros add no gain).</para>
    /// <para>Queries whose IDCG@K is 0 count as 0 in the mean rather than being skipped, following
    /// scikit-learn; drop those rows first to average only over queries with something relevant.</para>
    /// <para>Tie rule: the ranked order is taken as given.</para>
    /// </remarks>
    /// <param name="rankedRelevance">queryCount × <paramref name="listLength"/> grades, row-major, best rank first.</param>
    /// <param name="listLength">Row length of <paramref name="rankedRelevance"/>.</param>
    /// <param name="idealRelevance">queryCount × <paramref name="idealLength"/> grades of every judged item per query.</param>
    /// <param name="idealLength">Row length of <paramref name="idealRelevance"/>.</param>
    /// <param name="k">Cut-off, 1 ≤ k ≤ listLength.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">
    /// Empty or ragged spans, differing query counts, a negative or non-finite grade, or a row whose
    /// ranked list gains more than its ideal grades allow.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A row length is not positive or k is out of range.</exception>
    public static double MeanNdcgAtK(ReadOnlySpan<double> rankedRelevance, int listLength, ReadOnlySpan<double> idealRelevance, int idealLength, int k)
    {
        int queries = ShapeGuard.RowCount(rankedRelevance.Length, listLength, nameof(rankedRelevance), nameof(listLength));
        int idealRows = ShapeGuard.RowCount(idealRelevance.Length, idealLength, nameof(idealRelevance), nameof(idealLength));
        if (idealRows != queries)
            throw new ArgumentException(
                $"rankedRelevance holds {queries} query rows but idealRelevance holds {idealRows}; they must describe the same queries.",
                nameof(idealRelevance));
        ShapeGuard.CutOff(k, listLength, nameof(k), nameof(listLength));
        CheckGrades(rankedRelevance, nameof(rankedRelevance));
        CheckGrades(idealRelevance, nameof(idealRelevance));

        double[] scratch = ArrayPool<double>.Shared.Rent(idealLength);
        try
        {
            double sum = 0;
            for (int q = 0; q < queries; q++)
            {
                sum += Ndcg(
                    rankedRelevance.Slice(q * listLength, listLength),
                    idealRelevance.Slice(q * idealLength, idealLength),
                    k,
                    scratch,
                    q);
            }

            return sum / queries;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    private static double Ndcg(ReadOnlySpan<double> ranked, ReadOnlySpan<double> idealRelevance, int k, double[] scratch, int query)
    {
        Span<double> sorted = scratch.AsSpan(0, idealRelevance.Length);
        idealRelevance.CopyTo(sorted);
        sorted.Sort();
        sorted.Reverse();
        double idcg = Dcg(sorted, k);
        double dcg = Dcg(ranked, k);
        if (dcg > idcg * (1 + RelativeTolerance))
        {
            string where = query < 0 ? "the ranked list" : $"row {query} of rankedRelevance";
            throw new ArgumentException(
                $"{where} has DCG@{k} = {dcg} but its ideal grades give IDCG@{k} = {idcg}; idealRelevance must hold the grade of every relevant item, retrieved or not.",
                nameof(idealRelevance));
        }

        if (idcg == 0)
            return 0;
        // The tolerance above lets rounding push the ratio a hair past 1.
        return Math.Min(1.0, dcg / idcg);
    }

    private static double Dcg(ReadOnlySpan<double> grades, int k)
    {
        int n = Math.Min(k, grades.Length);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double grade = grades[i];
            if (grade != 0)
                sum += (Math.Pow(2, grade) - 1) / Math.Log2(i + 2);
        }

        return sum;
    }

    private static void CheckGrades(ReadOnlySpan<double> grades, string name)
    {
        for (int i = 0; i < grades.Length; i++)
        {
            double grade = grades[i];
            if (!double.IsFinite(grade) || grade < 0)
                throw new ArgumentException($"{name}[{i}] is {grade}; grades must be finite and non-negative.", name);
        }
    }
}
