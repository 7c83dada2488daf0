using System.Numerics;

namespace DeepRetrieval.Evaluation;

/// <summary>The four cells of a binary confusion matrix.</summary>
public readonly record struct ConfusionCounts
{
    /// <summary>Creates counts from the four cells.</summary>
    /// <param name="truePositives">Positives predicted positive.</param>
    /// <param name="falsePositives">Negatives predicted positive.</param>
    /// <param name="trueNegatives">Negatives predicted negative.</param>
    /// <param name="falseNegatives">Positives predicted negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public ConfusionCounts(long truePositives, long falsePositives, long trueNegatives, long falseNegatives)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(truePositives);
        ArgumentOutOfRangeException.ThrowIfNegative(falsePositives);
        ArgumentOutOfRangeException.ThrowIfNegative(trueNegatives);
        ArgumentOutOfRangeException.ThrowIfNegative(falseNegatives);
        TruePositives = truePositives;
        FalsePositives = falsePositives;
        TrueNegatives = trueNegatives;
        FalseNegatives = falseNegatives;
    }

    /// <summary>Positives predicted positive (TP).</summary>
    public long TruePositives { get; }

    /// <summary>Negatives predicted positive (FP).</summary>
    public long FalsePositives { get; }

    /// <summary>Negatives predicted negative (TN).</summary>
    public long TrueNegatives { get; }

    /// <summary>Positives predicted negative (FN).</summary>
    public long FalseNegatives { get; }

    /// <summary>Actual positives, <c>TP + FN</c>.</summary>
    public long ActualPositives => TruePositives + FalseNegatives;

    /// <summary>Actual negatives, <c>TN + FP</c>.</summary>
    public long ActualNegatives => TrueNegatives + FalsePositives;

    /// <summary>All counted samples, <c>TP + FP + TN + FN</c>.</summary>
    public long Total => ActualPositives + ActualNegatives;

    /// <summary>Counts predictions against the truth, position by position.</summary>
    /// <param name="predicted">Predicted class of each sample (true = positive).</param>
    /// <param name="actual">Actual class of each sample (true = positive).</param>
    /// <returns>The confusion counts.</returns>
    /// <exception cref="ArgumentException">The spans are empty or differ in length.</exception>
    public static ConfusionCounts FromPredictions(ReadOnlySpan<bool> predicted, ReadOnlySpan<bool> actual)
    {
        ShapeGuard.NotEmpty(predicted.Length, nameof(predicted));
        ShapeGuard.SameLength(actual.Length, predicted.Length, nameof(actual), nameof(predicted));
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            if (predicted[i])
            {
                if (actual[i]) tp++;
                else fp++;
            }
            else
            {
                if (actual[i]) fn++;
                else tn++;
            }
        }

        return new ConfusionCounts(tp, fp, tn, fn);
    }

    /// <summary>
    /// Counts thresholded scores against the truth: sample i is predicted positive when
    /// <c>scores[i] ≥ threshold</c>.
    /// </summary>
    /// <param name="scores">One score per sample; larger means more positive. NaN is rejected.</param>
    /// <param name="actual">Actual class of each sample (true = positive).</param>
    /// <param name="threshold">The decision threshold; a score equal to it is predicted positive. NaN is rejected.</param>
    /// <returns>The confusion counts.</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, or a NaN score or threshold.</exception>
    public static ConfusionCounts FromScores(ReadOnlySpan<float> scores, ReadOnlySpan<bool> actual, float threshold)
        => Threshold(scores, actual, threshold);

    /// <summary>
    /// Counts thresholded scores against the truth: sample i is predicted positive when
    /// <c>scores[i] ≥ threshold</c>.
    /// </summary>
    /// <param name="scores">One score per sample; larger means more positive. NaN is rejected.</param>
    /// <param name="actual">Actual class of each sample (true = positive).</param>
    /// <param name="threshold">The decision threshold; a score equal to it is predicted positive. NaN is rejected.</param>
    /// <returns>The confusion counts.</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, or a NaN score or threshold.</exception>
    public static ConfusionCounts FromScores(ReadOnlySpan<double> scores, ReadOnlySpan<bool> actual, double threshold)
        => Threshold(scores, actual, threshold);

    private static ConfusionCounts Threshold<T>(ReadOnlySpan<T> scores, ReadOnlySpan<bool> actual, T threshold)
        where T : IFloatingPointIeee754<T>
    {
        ShapeGuard.NotEmpty(scores.Length, nameof(scores));
        ShapeGuard.SameLength(actual.Length, scores.Length, nameof(actual), nameof(scores));
        if (T.IsNaN(threshold))
            throw new ArgumentException("threshold is NaN.", nameof(threshold));
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            T score = scores[i];
            if (T.IsNaN(score))
                throw new ArgumentException($"scores[{i}] is NaN.", nameof(scores));
            if (score >= threshold)
            {
                if (actual[i]) tp++;
                else fp++;
            }
            else
            {
                if (actual[i]) fn++;
                else tn++;
            }
        }

        return new ConfusionCounts(tp, fp, tn, fn);
    }
}
