using System.Buffers;
using System.Numerics;

namespace DeepRetrieval.Evaluation;

/// <summary>
/// Binary classification metrics, as used to judge verification (same / different pair) and
/// duplicate-detection thresholds: ROC AUC, F1 and G-Mean.
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>
    /// Area under the ROC curve, computed as the normalised Mann–Whitney U statistic:
    /// <c>AUC = (Σ_{i positive} rank_i − P(P + 1)/2) / (P·N)</c>, where ranks are 1-based positions in
    /// ascending score order, P and N are the numbers of positives and negatives.
    /// </summary>
    /// <remarks>
    /// Tie rule: tied scores share the average of the ranks they span, so a positive–negative pair with
    /// equal scores counts 1/2. Equivalently, AUC is the probability that a random positive outscores a
    /// random negative, ties counting half. This matches scikit-learn's <c>roc_auc_score</c>.
    /// </remarks>
    /// <param name="scores">One score per sample; larger means more positive. NaN is rejected; infinities are allowed.</param>
    /// <param name="labels">Actual class of each sample (true = positive); both classes must occur.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a NaN score, or only one class present.</exception>
    public static double RocAuc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> labels) => Auc(scores, labels);

    /// <summary>
    /// Area under the ROC curve, computed as the normalised Mann–Whitney U statistic:
    /// <c>AUC = (Σ_{i positive} rank_i − P(P + 1)/2) / (P·N)</c>, where ranks are 1-based positions in
    /// ascending score order, P and N are the numbers of positives and negatives.
    /// </summary>
    /// <remarks>
    /// Tie rule: tied scores share the average of the ranks they span, so a positive–negative pair with
    /// equal scores counts 1/2. This matches scikit-learn's <c>roc_auc_score</c>.
    /// </remarks>
    /// <param name="scores">One score per sample; larger means more positive. NaN is rejected; infinities are allowed.</param>
    /// <param name="labels">Actual class of each sample (true = positive); both classes must occur.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a NaN score, or only one class present.</exception>
    public static double RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels) => Auc(scores, labels);

    /// <summary>
    /// F1 score, the harmonic mean of precision and recall:
    /// <c>F1 = 2·TP / (2·TP + FP + FN)</c>.
    /// </summary>
    /// <remarks>
    /// <para>When <c>TP + FP + FN = 0</c> (no actual and no predicted positive) F1 is undefined; this returns 0,
    /// as scikit-learn's <c>f1_score</c> does by default.</para>
    /// <para>Tie rule: none is needed on hard predictions; <see cref="ConfusionCounts.FromScores(ReadOnlySpan{float}, ReadOnlySpan{bool}, float)"/>
    /// predicts positive for a score equal to the threshold.</para>
    /// </remarks>
    /// <param name="counts">The confusion counts.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="counts"/> counts no sample.</exception>
    public static double F1(ConfusionCounts counts)
    {
        if (counts.Total == 0)
            throw new ArgumentException("counts is empty: every cell is 0.", nameof(counts));
        long denominator = 2 * counts.TruePositives + counts.FalsePositives + counts.FalseNegatives;
        return denominator == 0 ? 0 : 2.0 * counts.TruePositives / denominator;
    }

    /// <summary>
    /// F1 score of predictions against the truth: <c>F1 = 2·TP / (2·TP + FP + FN)</c>, 0 when
    /// <c>TP + FP + FN = 0</c>.
    /// </summary>
    /// <remarks>Tie rule: none is needed on hard predictions.</remarks>
    /// <param name="predicted">Predicted class of each sample (true = positive).</param>
    /// <param name="actual">Actual class of each sample (true = positive).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">The spans are empty or differ in length.</exception>
    public static double F1(ReadOnlySpan<bool> predicted, ReadOnlySpan<bool> actual)
        => F1(ConfusionCounts.FromPredictions(predicted, actual));

    /// <summary>
    /// Geometric mean of sensitivity and specificity:
    /// <c>G-Mean = sqrt(TPR·TNR)</c> with <c>TPR = TP / (TP + FN)</c> and <c>TNR = TN / (TN + FP)</c>.
    /// </summary>
    /// <remarks>
    /// <para>Both rates need their class to be present, so the counts must hold at least one actual positive
    /// and one actual negative; otherwise G-Mean is undefined and this throws.</para>
    /// <para>Tie rule: none is needed on hard predictions; <see cref="ConfusionCounts.FromScores(ReadOnlySpan{float}, ReadOnlySpan{bool}, float)"/>
    /// predicts positive for a score equal to the threshold.</para>
    /// </remarks>
    /// <param name="counts">The confusion counts.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="counts"/> has no actual positive or no actual negative.</exception>
    public static double GMean(ConfusionCounts counts)
    {
        if (counts.ActualPositives == 0 || counts.ActualNegatives == 0)
            throw new ArgumentException(
                $"counts holds {counts.ActualPositives} actual positives and {counts.ActualNegatives} actual negatives; G-Mean needs both classes.",
                nameof(counts));
        double tpr = counts.TruePositives / (double)counts.ActualPositives;
        double tnr = counts.TrueNegatives / (double)counts.ActualNegatives;
        return Math.Sqrt(tpr * tnr);
    }

    /// <summary>
    /// G-Mean of predictions against the truth: <c>sqrt(TPR·TNR)</c> with <c>TPR = TP / (TP + FN)</c> and
    /// <c>TNR = TN / (TN + FP)</c>.
    /// </summary>
    /// <remarks>Tie rule: none is needed on hard predictions. Both actual classes must occur.</remarks>
    /// <param name="predicted">Predicted class of each sample (true = positive).</param>
    /// <param name="actual">Actual class of each sample (true = positive); both classes must occur.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException">The spans are empty or differ in length, or only one actual class occurs.</exception>
    public static double GMean(ReadOnlySpan<bool> predicted, ReadOnlySpan<bool> actual)
        => GMean(ConfusionCounts.FromPredictions(predicted, actual));

    private static double Auc<T>(ReadOnlySpan<T> scores, ReadOnlySpan<bool> labels)
        where T : IFloatingPointIeee754<T>
    {
        ShapeGuard.NotEmpty(scores.Length, nameof(scores));
        ShapeGuard.SameLength(labels.Length, scores.Length, nameof(labels), nameof(scores));
        int n = scores.Length;
        long positives = labels.Count(true);
        long negatives = n - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException(
                $"labels holds {positives} positives and {negatives} negatives; ROC AUC needs both classes.",
                nameof(labels));

        double[] keys = ArrayPool<double>.Shared.Rent(n);
        bool[] flags = ArrayPool<bool>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                if (T.IsNaN(scores[i]))
                    throw new ArgumentException($"scores[{i}] is NaN.", nameof(scores));
                keys[i] = double.CreateChecked(scores[i]);
                flags[i] = labels[i];
            }

            Span<double> keySpan = keys.AsSpan(0, n);
            Span<bool> flagSpan = flags.AsSpan(0, n);
            keySpan.Sort(flagSpan);

            // The sort is unstable, but only how many positives each tie group holds matters.
            double positiveRankSum = 0;
            int start = 0;
            while (start < n)
            {
                int end = start + 1;
                while (end < n && keySpan[end] == keySpan[start])
                    end++;
                double averageRank = (start + 1 + end) / 2.0;
                positiveRankSum += flagSpan[start..end].Count(true) * averageRank;
                start = end;
            }

            double u = positiveRankSum - positives * (positives + 1) / 2.0;
            return u / ((double)positives * negatives);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(keys);
            ArrayPool<bool>.Shared.Return(flags);
        }
    }
}
