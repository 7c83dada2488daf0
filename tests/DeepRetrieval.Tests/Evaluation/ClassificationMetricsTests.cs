using DeepRetrieval.Evaluation;

namespace DeepRetrieval.Tests.Evaluation;

public class ClassificationMetricsTests
{
    private const double Tolerance = 1e-12;
    private const bool T = true;
    private const bool F = false;

    [Fact]
    public void RocAuc_MatchesHandWorkedExample()
    {
        // Ascending: 0.1 (neg, rank 1), 0.35 (pos, rank 2), 0.4 (neg, rank 3), 0.8 (pos, rank 4).
        // U = (2 + 4) − 2·3/2 = 3; AUC = 3 / (2·2) = 0.75.
        ClassificationMetrics.RocAuc([0.1f, 0.4f, 0.35f, 0.8f], [F, F, T, T]).Should().BeApproximately(0.75, Tolerance);
        ClassificationMetrics.RocAuc([0.1, 0.4, 0.35, 0.8], [F, F, T, T]).Should().BeApproximately(0.75, Tolerance);
    }

    [Fact]
    public void RocAuc_CountsTiedPairsAsHalf()
    {
        // The three 0.5 scores share ranks 1..3, average 2; 0.9 has rank 4.
        // Positive rank sum = 2 + 4 = 6; U = 6 − 3 = 3; AUC = 3/4.
        // Pairwise check: pos 0.5 vs two negs at 0.5 → ½ + ½; pos 0.9 beats both → 2; total 3 of 4 pairs.
        ClassificationMetrics.RocAuc([0.5f, 0.5f, 0.5f, 0.9f], [T, F, F, T]).Should().BeApproximately(0.75, Tolerance);
    }

    [Fact]
    public void RocAuc_IsHalf_WhenEveryScoreTies()
    {
        ClassificationMetrics.RocAuc([1f, 1f, 1f, 1f, 1f], [T, F, T, F, F]).Should().BeApproximately(0.5, Tolerance);
    }

    [Fact]
    public void RocAuc_Is1ForPerfectAnd0ForReversedScores()
    {
        ClassificationMetrics.RocAuc([0.9f, 0.8f, 0.2f], [T, T, F]).Should().Be(1);
        ClassificationMetrics.RocAuc([0.1f, 0.2f, 0.8f], [T, T, F]).Should().Be(0);
    }

    [Fact]
    public void RocAuc_AcceptsInfiniteScores()
    {
        ClassificationMetrics.RocAuc([float.PositiveInfinity, float.NegativeInfinity], [T, F]).Should().Be(1);
    }

    [Fact]
    public void RocAuc_Throws_OnNaNScore()
    {
        Action act = () => ClassificationMetrics.RocAuc([0.2f, float.NaN], [T, F]);
        act.Should().Throw<ArgumentException>().WithParameterName("scores").WithMessage("*scores[1] is NaN*");
    }

    [Fact]
    public void RocAuc_Throws_WhenOnlyOneClassIsPresent()
    {
        Action act = () => ClassificationMetrics.RocAuc([0.2f, 0.3f], [T, T]);
        act.Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*both classes*");
    }

    [Fact]
    public void RocAuc_Throws_OnLengthMismatch()
    {
        Action act = () => ClassificationMetrics.RocAuc([0.2f, 0.3f], [T]);
        act.Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void RocAuc_Throws_OnEmptyInput()
    {
        Action act = () => ClassificationMetrics.RocAuc(ReadOnlySpan<float>.Empty, ReadOnlySpan<bool>.Empty);
        act.Should().Throw<ArgumentException>().WithParameterName("scores").WithMessage("*empty*");
    }

    [Fact]
    public void F1AndGMean_MatchHandWorkedExampleFromCounts()
    {
        // TP = 3, FP = 1, TN = 4, FN = 2.
        // F1 = 2·3 / (2·3 + 1 + 2) = 6/9 = 2/3.
        // TPR = 3/5, TNR = 4/5, G-Mean = sqrt(12/25) = 0.6928203.
        var counts = new ConfusionCounts(truePositives: 3, falsePositives: 1, trueNegatives: 4, falseNegatives: 2);
        ClassificationMetrics.F1(counts).Should().BeApproximately(2.0 / 3, Tolerance);
        ClassificationMetrics.GMean(counts).Should().BeApproximately(Math.Sqrt(12.0 / 25), Tolerance);
    }

    [Fact]
    public void F1AndGMean_MatchHandWorkedExampleFromPredictions()
    {
        // predicted [T, T, F, F, T] vs actual [T, F, F, T, T]: TP = 2 (0, 4), FP = 1 (1), TN = 1 (2), FN = 1 (3).
        // F1 = 4 / (4 + 1 + 1) = 2/3. TPR = 2/3, TNR = 1/2, G-Mean = sqrt(1/3).
        bool[] predicted = [T, T, F, F, T];
        bool[] actual = [T, F, F, T, T];
        ConfusionCounts.FromPredictions(predicted, actual).Should().Be(new ConfusionCounts(2, 1, 1, 1));
        ClassificationMetrics.F1(predicted, actual).Should().BeApproximately(2.0 / 3, Tolerance);
        ClassificationMetrics.GMean(predicted, actual).Should().BeApproximately(Math.Sqrt(1.0 / 3), Tolerance);
    }

    [Fact]
    public void F1_IsZero_WhenThereIsNoActualOrPredictedPositive()
    {
        ClassificationMetrics.F1(new ConfusionCounts(0, 0, 5, 0)).Should().Be(0);
    }

    [Fact]
    public void F1_Throws_WhenCountsAreEmpty()
    {
        Action act = () => ClassificationMetrics.F1(default(ConfusionCounts));
        act.Should().Throw<ArgumentException>().WithParameterName("counts");
    }

    [Fact]
    public void GMean_Throws_WhenAClassIsMissing()
    {
        Action noNegatives = () => ClassificationMetrics.GMean(new ConfusionCounts(3, 0, 0, 1));
        Action noPositives = () => ClassificationMetrics.GMean([T, F], [F, F]);
        noNegatives.Should().Throw<ArgumentException>().WithParameterName("counts").WithMessage("*both classes*");
        noPositives.Should().Throw<ArgumentException>().WithParameterName("counts");
    }

    [Fact]
    public void ConfusionCounts_FromScores_PredictsPositiveAtOrAboveTheThreshold()
    {
        // threshold 0.5: 0.5 and 0.7 are predicted positive.
        // [0.2 neg→TN, 0.5 pos→TP, 0.7 neg→FP, 0.4 pos→FN]
        var expected = new ConfusionCounts(1, 1, 1, 1);
        ConfusionCounts.FromScores([0.2f, 0.5f, 0.7f, 0.4f], [F, T, F, T], 0.5f).Should().Be(expected);
        ConfusionCounts.FromScores([0.2, 0.5, 0.7, 0.4], [F, T, F, T], 0.5).Should().Be(expected);
        expected.Total.Should().Be(4);
        expected.ActualPositives.Should().Be(2);
        expected.ActualNegatives.Should().Be(2);
    }

    [Fact]
    public void ConfusionCounts_Throws_OnNaNScoreOrThreshold()
    {
        Action score = () => ConfusionCounts.FromScores([float.NaN], [T], 0.5f);
        Action threshold = () => ConfusionCounts.FromScores([0.5f], [T], float.NaN);
        score.Should().Throw<ArgumentException>().WithParameterName("scores");
        threshold.Should().Throw<ArgumentException>().WithParameterName("threshold");
    }

    [Fact]
    public void ConfusionCounts_Throws_OnNegativeCount()
    {
        Action act = () => _ = new ConfusionCounts(1, -1, 0, 0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("falsePositives");
    }

    [Fact]
    public void ConfusionCounts_Throws_OnLengthMismatch()
    {
        Action act = () => ConfusionCounts.FromPredictions([T, F], [T]);
        act.Should().Throw<ArgumentException>().WithParameterName("actual").WithMessage("*same length*");
    }
}
