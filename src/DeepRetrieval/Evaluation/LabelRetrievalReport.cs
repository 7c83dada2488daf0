using System.Globalization;
using System.Text;

namespace DeepRetrieval.Evaluation;

/// <summary>
/// The label-based retrieval metrics of metric learning, computed in one pass by
/// <see cref="RetrievalEvaluator"/>: Precision@1, hit-rate Recall@K, MAP@R and R-Precision.
/// </summary>
/// <remarks>
/// <para>Every metric is averaged over the same queries, Q': those with at least one relevant reference
/// (R &gt; 0). Queries with R = 0 are skipped, as in Musgrave et al.'s implementation; when all are
/// skipped every metric is <see cref="double.NaN"/>.</para>
/// <para><c>rel_q(i)</c> is 1 when the neighbour at rank i shares query q's label, and
/// <c>P_q(i) = (1/i) Σ_{j ≤ i} rel_q(j)</c>.</para>
/// <para>Tie rule: neighbour lists are taken in the order given (this library's indexes order equal
/// distances by ascending id).</para>
/// </remarks>
public sealed record LabelRetrievalReport
{
    internal LabelRetrievalReport(
        int queryCount,
        int evaluatedQueryCount,
        int truncatedQueryCount,
        int k,
        double precisionAt1,
        IReadOnlyDictionary<int, double> recallAtK,
        double meanAveragePrecisionAtR,
        double rPrecision)
    {
        QueryCount = queryCount;
        EvaluatedQueryCount = evaluatedQueryCount;
        TruncatedQueryCount = truncatedQueryCount;
        K = k;
        PrecisionAt1 = precisionAt1;
        RecallAtK = recallAtK;
        MeanAveragePrecisionAtR = meanAveragePrecisionAtR;
        RPrecision = rPrecision;
    }

    /// <summary>Queries given.</summary>
    public int QueryCount { get; }

    /// <summary>Queries averaged over: those with R &gt; 0.</summary>
    public int EvaluatedQueryCount { get; }

    /// <summary>Queries skipped because no reference shares their label (R = 0).</summary>
    public int SkippedQueryCount => QueryCount - EvaluatedQueryCount;

    /// <summary>
    /// Evaluated queries with R &gt; <see cref="K"/>. Their ranks past K counted as not relevant, so
    /// <see cref="MeanAveragePrecisionAtR"/> and <see cref="RPrecision"/> are lower bounds of what
    /// lists of R neighbours would give. Retrieve at least max R neighbours to make this 0.
    /// </summary>
    public int TruncatedQueryCount { get; }

    /// <summary>Neighbours per query in the evaluated lists.</summary>
    public int K { get; }

    /// <summary>
    /// Precision@1: the fraction of evaluated queries whose first neighbour shares their label,
    /// <c>(1/Q') Σ_q rel_q(1)</c>.
    /// </summary>
    public double PrecisionAt1 { get; }

    /// <summary>
    /// Hit-rate Recall@K for each requested K: the fraction of evaluated queries with at least one
    /// neighbour sharing their label among the first K, <c>(1/Q') Σ_q [Σ_{i ≤ K} rel_q(i) ≥ 1]</c>.
    /// Keyed by K, in ascending order.
    /// </summary>
    public IReadOnlyDictionary<int, double> RecallAtK { get; }

    /// <summary>
    /// MAP@R (Musgrave et al. 2020): <c>(1/Q') Σ_q (1/R_q) Σ_{i=1..R_q} P_q(i)·rel_q(i)</c>, ranks past K
    /// counting as not relevant.
    /// </summary>
    public double MeanAveragePrecisionAtR { get; }

    /// <summary>
    /// R-Precision (Musgrave et al. 2020): <c>(1/Q') Σ_q (1/R_q) Σ_{i=1..R_q} rel_q(i)</c>, ranks past K
    /// counting as not relevant.
    /// </summary>
    public double RPrecision { get; }

    /// <summary>
    /// Formats the report on one line, for example
    /// <c>P@1 = 0.8000, R@1 = 0.8000, R@4 = 0.9500, MAP@R = 0.4120, R-Precision = 0.5210 (100 of 100 queries evaluated, K = 16)</c>.
    /// </summary>
    /// <returns>The formatted report, using the invariant culture.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        CultureInfo culture = CultureInfo.InvariantCulture;
        text.Append(culture, $"P@1 = {PrecisionAt1:F4}");
        foreach ((int k, double recall) in RecallAtK)
            text.Append(culture, $", R@{k} = {recall:F4}");
        text.Append(culture, $", MAP@R = {MeanAveragePrecisionAtR:F4}, R-Precision = {RPrecision:F4}");
        text.Append(culture, $" ({EvaluatedQueryCount} of {QueryCount} queries evaluated, K = {K}");
        if (SkippedQueryCount > 0)
            text.Append(culture, $", {SkippedQueryCount} skipped with R = 0");
        if (TruncatedQueryCount > 0)
            text.Append(culture, $", {TruncatedQueryCount} with R > K");
        text.Append(')');
        return text.ToString();
    }
}
