namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// Average precision as the instance-retrieval benchmarks compute it (Oxford's <c>compute_ap</c>, INRIA Holidays,
/// Market-1501 and revisitop's <c>compute_map</c>, which all share it): junk results are removed from the ranking,
/// and the precision–recall curve is integrated with trapezoids whose left edge at the first rank is precision 1.
/// </summary>
public static class InstanceRetrievalMetrics
{
    /// <summary>
    /// revisitop's <c>compute_map</c>: for each query the positions of its positives in its ranking are lowered by
    /// the junk ranked before them, the trapezoid average precision is taken over the positives found (divided by
    /// all its positives), and precision at k uses revisitop's cut-off min(k, rank of the last positive found). Queries
    /// without positives get NaN and are left out of the means.
    /// </summary>
    /// <param name="ranks">queryCount × <paramref name="width"/> database positions, best first (the reference takes whole rankings; shorter lists count positives beyond them as not found).</param>
    /// <param name="width">Positions per query.</param>
    /// <param name="judgments">Positives and junk of each query.</param>
    /// <param name="kappas">The k of each mean precision at k (revisitop reports 1, 5 and 10); may be empty.</param>
    /// <returns>mAP, mP@k and the per-query values.</returns>
    /// <exception cref="ArgumentException">Shapes do not match, a position is negative, or a k is not positive.</exception>
    public static InstanceRetrievalResult ComputeMap(ReadOnlySpan<long> ranks, int width, IReadOnlyList<QueryJudgments> judgments, ReadOnlySpan<int> kappas = default)
    {
        ArgumentNullException.ThrowIfNull(judgments);
        int queries = ShapeGuard.RowCount(ranks.Length, width, nameof(ranks), nameof(width));
        ShapeGuard.OnePerQuery(judgments.Count, queries, nameof(judgments));
        foreach (int kappa in kappas)
            if (kappa <= 0) throw new ArgumentOutOfRangeException(nameof(kappas), kappa, "Every k must be positive.");

        var aps = new double[queries];
        var precisions = kappas.ToArray().Distinct().ToDictionary(k => k, _ => new double[queries]);
        var positions = new List<int>();
        double sum = 0;
        var precisionSums = precisions.Keys.ToDictionary(k => k, _ => 0.0);
        int empty = 0;
        for (int q = 0; q < queries; q++)
        {
            QueryJudgments judgment = judgments[q] ?? throw new ArgumentException($"judgments[{q}] is null.", nameof(judgments));
            if (judgment.Positives.Count == 0)
            {
                aps[q] = double.NaN;
                foreach (double[] p in precisions.Values) p[q] = double.NaN;
                empty++;
                continue;
            }

            PositivePositions(ranks.Slice(q * width, width), judgment, positions, q);
            aps[q] = Trapezoid(positions, judgment.Positives.Count);
            sum += aps[q];
            foreach ((int k, double[] values) in precisions)
            {
                values[q] = PrecisionAt(positions, k);
                precisionSums[k] += values[q];
            }
        }

        int evaluated = queries - empty;
        return new InstanceRetrievalResult(
            evaluated == 0 ? double.NaN : sum / evaluated,
            aps,
            precisionSums.ToDictionary(p => p.Key, p => evaluated == 0 ? double.NaN : p.Value / evaluated),
            precisions,
            empty);
    }

    /// <summary>
    /// Trapezoid average precision from the 0-based ranks of the positives found (junk already removed), ascending:
    /// Σ over the j-th positive at rank r of (p₀ + p₁) / (2 · <paramref name="positives"/>), p₀ = j / r (1 when r = 0),
    /// p₁ = (j + 1) / (r + 1).
    /// </summary>
    /// <param name="ranks">0-based ranks of the positives found, ascending.</param>
    /// <param name="positives">Number of positives the query has (found or not); positive.</param>
    public static double Trapezoid(IReadOnlyList<int> ranks, int positives)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(positives);
        double ap = 0, step = 1.0 / positives;
        for (int j = 0; j < ranks.Count; j++)
        {
            int rank = ranks[j];
            double before = rank == 0 ? 1.0 : (double)j / rank;
            double after = (double)(j + 1) / (rank + 1);
            ap += (before + after) * step / 2.0;
        }

        return ap;
    }

    /// <summary>0-based positions of the positives in one ranking, each lowered by the junk ranked before it.</summary>
    internal static void PositivePositions(ReadOnlySpan<long> ranking, QueryJudgments judgment, List<int> positions, int query)
    {
        positions.Clear();
        var positives = judgment.Positives as IReadOnlySet<int> ?? new HashSet<int>(judgment.Positives);
        var junk = judgment.Junk as IReadOnlySet<int> ?? new HashSet<int>(judgment.Junk);
        int junkSoFar = 0;
        for (int i = 0; i < ranking.Length; i++)
        {
            long id = ranking[i];
            if (id < 0)
                throw new ArgumentException($"ranks: query {query}, rank {i} holds {id}; positions are non-negative.", "ranks");
            if (id > int.MaxValue) continue;
            // As compute_map: a positive is lowered by the junk strictly before it; an id in both lists is both.
            if (positives.Contains((int)id)) positions.Add(i - junkSoFar);
            if (junk.Contains((int)id)) junkSoFar++;
        }
    }

    // revisitop: kq = min(max(pos), k) over 1-based positions, precision = |{pos ≤ kq}| / kq.
    private static double PrecisionAt(List<int> positions, int k)
    {
        if (positions.Count == 0) return 0.0;
        int cut = Math.Min(positions[^1] + 1, k);
        int hits = 0;
        foreach (int p in positions)
            if (p + 1 <= cut) hits++;
        return (double)hits / cut;
    }
}
