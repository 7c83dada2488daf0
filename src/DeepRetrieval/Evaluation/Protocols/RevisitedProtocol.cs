namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// Scores rankings on revisited Oxford or Paris exactly as revisitop's <c>example_evaluate.py</c> does: for each of
/// the Easy, Medium and Hard settings, <see cref="InstanceRetrievalMetrics.ComputeMap"/> (junk removed before the
/// trapezoid AP, queries without positives left out) with mP@1, 5 and 10.
/// </summary>
public static class RevisitedProtocol
{
    /// <summary>The cut-offs revisitop reports: 1, 5 and 10.</summary>
    public static IReadOnlyList<int> DefaultKappas { get; } = Array.AsReadOnly([1, 5, 10]);

    /// <summary>Scores one setting.</summary>
    /// <param name="ranks">queryCount × <paramref name="width"/> database positions (indices into <see cref="RevisitedGroundTruth.ImageNames"/>), best first; normally whole rankings (width = database size).</param>
    /// <param name="width">Positions per query.</param>
    /// <param name="groundTruth">The ground truth.</param>
    /// <param name="setting">Easy, Medium or Hard.</param>
    /// <param name="kappas">Cut-offs of mP@k; empty for <see cref="DefaultKappas"/>.</param>
    public static InstanceRetrievalResult Evaluate(ReadOnlySpan<long> ranks, int width, RevisitedGroundTruth groundTruth, RevisitedSetting setting, ReadOnlySpan<int> kappas = default)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ReadOnlySpan<int> cuts = kappas.IsEmpty ? [1, 5, 10] : kappas;
        return InstanceRetrievalMetrics.ComputeMap(ranks, width, groundTruth.JudgmentsFor(setting), cuts);
    }

    /// <summary>Scores all three settings.</summary>
    /// <param name="ranks">queryCount × <paramref name="width"/> database positions, best first.</param>
    /// <param name="width">Positions per query.</param>
    /// <param name="groundTruth">The ground truth.</param>
    public static RevisitedResult EvaluateAll(ReadOnlySpan<long> ranks, int width, RevisitedGroundTruth groundTruth) =>
        new(Evaluate(ranks, width, groundTruth, RevisitedSetting.Easy),
            Evaluate(ranks, width, groundTruth, RevisitedSetting.Medium),
            Evaluate(ranks, width, groundTruth, RevisitedSetting.Hard));
}
