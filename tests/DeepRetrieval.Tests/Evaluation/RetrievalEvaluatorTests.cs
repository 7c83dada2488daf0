using DeepRetrieval.Evaluation;

namespace DeepRetrieval.Tests.Evaluation;

public class RetrievalEvaluatorTests
{
    private const double Tolerance = 1e-12;

    // Five queries, k = 4 neighbour labels each (self-match already removed).
    private static readonly int[] QueryLabels = [1, 2, 3, 4, 5];
    private static readonly int[] NeighborLabels =
    [
        1, 2, 1, 1, // q0, label 1, R = 3: relevance [1, 0, 1, 1]
        1, 2, 2, 3, // q1, label 2, R = 2: relevance [0, 1, 1, 0]
        1, 1, 2, 2, // q2, label 3, R = 1: relevance [0, 0, 0, 0]
        1, 2, 3, 5, // q3, label 4, R = 0: skipped
        5, 5, 1, 2, // q4, label 5, R = 6 > k: relevance [1, 1, 0, 0]
    ];
    private static readonly int[] R = [3, 2, 1, 0, 6];

    [Fact]
    public void Evaluate_MatchesHandWorkedExample()
    {
        // Evaluated queries: q0, q1, q2, q4 (q3 has R = 0).
        // P@1:  q0 1, q1 0, q2 0, q4 1                       → 2/4 = 0.5
        // R@1:  same as P@1                                  → 0.5
        // R@2:  q0 1, q1 1, q2 0, q4 1                       → 3/4
        // R@4:  q0 1, q1 1, q2 0, q4 1                       → 3/4
        // MAP@R:
        //   q0 R = 3, top 3 [1, 0, 1]: (1 + 2/3) / 3        = 5/9
        //   q1 R = 2, top 2 [0, 1]:    (1/2) / 2            = 1/4
        //   q2 R = 1, top 1 [0]:                            = 0
        //   q4 R = 6, top 4 [1, 1, 0, 0], ranks 5–6 missing: (1 + 1) / 6 = 1/3
        //   mean = (5/9 + 1/4 + 0 + 1/3) / 4 = (20/36 + 9/36 + 12/36) / 4 = 41/144
        // R-Precision:
        //   q0 2/3, q1 1/2, q2 0, q4 2/6 = 1/3 → (2/3 + 1/2 + 1/3) / 4 = 1.5/4 = 3/8
        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 4, R, [1, 2, 4]);

        report.QueryCount.Should().Be(5);
        report.EvaluatedQueryCount.Should().Be(4);
        report.SkippedQueryCount.Should().Be(1);
        report.TruncatedQueryCount.Should().Be(1);
        report.K.Should().Be(4);
        report.PrecisionAt1.Should().BeApproximately(0.5, Tolerance);
        report.RecallAtK.Keys.Should().Equal(1, 2, 4);
        report.RecallAtK[1].Should().BeApproximately(0.5, Tolerance);
        report.RecallAtK[2].Should().BeApproximately(0.75, Tolerance);
        report.RecallAtK[4].Should().BeApproximately(0.75, Tolerance);
        report.MeanAveragePrecisionAtR.Should().BeApproximately(41.0 / 144, Tolerance);
        report.RPrecision.Should().BeApproximately(3.0 / 8, Tolerance);
    }

    [Fact]
    public void Evaluate_AgreesWithRetrievalMetricsOnTheSameRelevance()
    {
        bool[] relevance = new bool[NeighborLabels.Length];
        for (int i = 0; i < relevance.Length; i++)
            relevance[i] = NeighborLabels[i] == QueryLabels[i / 4];

        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 4, R, [1]);

        report.MeanAveragePrecisionAtR.Should().BeApproximately(RetrievalMetrics.MeanAveragePrecisionAtR(relevance, 4, R), Tolerance);
        report.RPrecision.Should().BeApproximately(RetrievalMetrics.RPrecision(relevance, 4, R), Tolerance);
    }

    [Fact]
    public void Evaluate_WithIds_LooksLabelsUpAndTreatsMissingIdsAsNotRelevant()
    {
        // Reference id → label: 0 → 1, 1 → 2, 2 → 3, 3 → 5. The rows spell the same labels as
        // NeighborLabels, except q1's last neighbour (label 3, not relevant) is missing (−1).
        int[] referenceLabels = [1, 2, 3, 5];
        long[] ids =
        [
            0, 1, 0, 0,
            0, 1, 1, -1,
            0, 0, 1, 1,
            0, 1, 2, 3,
            3, 3, 0, 1,
        ];

        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<int>(QueryLabels, ids, 4, referenceLabels, R, [1, 2, 4]);

        report.PrecisionAt1.Should().BeApproximately(0.5, Tolerance);
        report.RecallAtK[2].Should().BeApproximately(0.75, Tolerance);
        report.MeanAveragePrecisionAtR.Should().BeApproximately(41.0 / 144, Tolerance);
        report.RPrecision.Should().BeApproximately(3.0 / 8, Tolerance);
    }

    [Fact]
    public void Evaluate_WithIds_Throws_WhenAnIdIsOutsideTheReferences()
    {
        Action act = () => RetrievalEvaluator.Evaluate<int>([1], [7L], 1, [1, 2], [1], [1]);
        act.Should().Throw<ArgumentException>().WithParameterName("neighborIds").WithMessage("*neighborIds[0] is 7*");
    }

    [Fact]
    public void Evaluate_AcceptsStringLabels()
    {
        // q0 "cat", R = 2: [cat, dog] → P@1 = 1, MAP@R = (1) / 2 = 1/2, R-Precision = 1/2.
        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<string>(["cat"], ["cat", "dog"], 2, [2], [1, 2]);
        report.PrecisionAt1.Should().Be(1);
        report.MeanAveragePrecisionAtR.Should().Be(0.5);
        report.RPrecision.Should().Be(0.5);
    }

    [Fact]
    public void Evaluate_ReportsNaN_WhenEveryQueryHasRZero()
    {
        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<int>([1, 2], [3, 4], 1, [0, 0], [1]);
        report.EvaluatedQueryCount.Should().Be(0);
        report.PrecisionAt1.Should().Be(double.NaN);
        report.RecallAtK[1].Should().Be(double.NaN);
        report.MeanAveragePrecisionAtR.Should().Be(double.NaN);
        report.RPrecision.Should().Be(double.NaN);
    }

    [Fact]
    public void Evaluate_Throws_WhenTheSelfMatchWasLeftIn()
    {
        // q0 has one other item with its label (R = 1) but its list holds two matches: itself and that item.
        Action act = () => RetrievalEvaluator.Evaluate<int>([7], [7, 7, 2], 3, [1], [1]);
        act.Should().Throw<ArgumentException>().WithParameterName("relevantCounts").WithMessage("*own neighbour list*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Evaluate_Throws_WhenARecallCutOffIsOutsideK(int recallK)
    {
        Action act = () => RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 4, R, [1, recallK]);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("recallKs");
    }

    [Fact]
    public void Evaluate_Throws_WhenARecallCutOffRepeats()
    {
        Action act = () => RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 4, R, [2, 1, 2]);
        act.Should().Throw<ArgumentException>().WithParameterName("recallKs").WithMessage("*2 more than once*");
    }

    [Fact]
    public void Evaluate_Throws_WhenNeighbourLabelsDoNotMatchQueriesTimesK()
    {
        Action act = () => RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 3, R, [1]);
        act.Should().Throw<ArgumentException>().WithParameterName("neighborLabels").WithMessage("*5 × 3 = 15*");
    }

    [Fact]
    public void Evaluate_Throws_WhenCountsDoNotMatchQueries()
    {
        Action act = () => RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 4, [1, 2], [1]);
        act.Should().Throw<ArgumentException>().WithParameterName("relevantCounts");
    }

    [Fact]
    public void Evaluate_Throws_WhenKIsNotPositive()
    {
        Action act = () => RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 0, R, [1]);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }

    [Fact]
    public void Evaluate_Throws_WhenThereAreNoQueries()
    {
        Action act = () => RetrievalEvaluator.Evaluate<int>(ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty, 1, ReadOnlySpan<int>.Empty, [1]);
        act.Should().Throw<ArgumentException>().WithParameterName("queryLabels").WithMessage("*empty*");
    }

    [Fact]
    public void Evaluate_HandlesListsLongerThanTheStackBuffer()
    {
        // k = 2000: the only match sits at rank 1500. R = 1: MAP@R and R-Precision look at rank 1 only → 0;
        // Recall@2000 = 1, Recall@1000 = 0.
        const int k = 2000;
        int[] neighbors = new int[k];
        neighbors[1499] = 9;
        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<int>([9], neighbors, k, [1], [1000, 2000]);
        report.RecallAtK[1000].Should().Be(0);
        report.RecallAtK[2000].Should().Be(1);
        report.MeanAveragePrecisionAtR.Should().Be(0);
    }

    [Fact]
    public void ToString_ListsEveryMetric()
    {
        LabelRetrievalReport report = RetrievalEvaluator.Evaluate<int>(QueryLabels, NeighborLabels, 4, R, [1, 2]);
        report.ToString().Should().Be(
            "P@1 = 0.5000, R@1 = 0.5000, R@2 = 0.7500, MAP@R = 0.2847, R-Precision = 0.3750 " +
            "(4 of 5 queries evaluated, K = 4, 1 skipped with R = 0, 1 with R > K)");
    }

    [Fact]
    public void CountRelevant_ExcludesTheQueryWhenQueriesAreReferences()
    {
        // Labels [1, 1, 2, 3, 3, 3]: label 1 twice → R = 1; label 2 once → R = 0; label 3 three times → R = 2.
        int[] labels = [1, 1, 2, 3, 3, 3];
        RetrievalEvaluator.CountRelevant<int>(labels, labels, queriesAreReferences: true).Should().Equal(1, 1, 0, 2, 2, 2);
    }

    [Fact]
    public void CountRelevant_CountsAllMatchesWhenQueriesAreSeparate()
    {
        // Query label 1 occurs twice among the references, label 4 never.
        RetrievalEvaluator.CountRelevant<int>([1, 4], [1, 1, 2, 3, 3, 3], queriesAreReferences: false).Should().Equal(2, 0);
    }

    [Fact]
    public void CountRelevant_Throws_WhenAQueryIsMissingFromItsOwnReferenceSet()
    {
        Action act = () => RetrievalEvaluator.CountRelevant<int>([4], [1, 2], queriesAreReferences: true);
        act.Should().Throw<ArgumentException>().WithParameterName("queryLabels").WithMessage("*queryLabels[0] = 4*");
    }

    [Fact]
    public void ExcludeSelfMatches_RemovesTheQueryIdWhereverItIsRanked()
    {
        long[] ids =
        [
            0, 5, 6, // q0 (id 0) ranked first
            7, 1, 8, // q1 (id 1) tied behind a duplicate, ranked second
            9, 4, 3, // q2 (id 2) missed by the search: the last neighbour is dropped
        ];

        RetrievalEvaluator.ExcludeSelfMatches(ids, 3, [0L, 1L, 2L]).Should().Equal(5, 6, 7, 8, 9, 4);
    }

    [Fact]
    public void ExcludeSelfMatches_Throws_OnBadShapes()
    {
        Action tooShort = () => RetrievalEvaluator.ExcludeSelfMatches([0L, 1L], 1, [0L, 1L]);
        Action wrongQueries = () => RetrievalEvaluator.ExcludeSelfMatches([0L, 1L], 2, [0L, 1L]);
        tooShort.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rowLength");
        wrongQueries.Should().Throw<ArgumentException>().WithParameterName("queryIds");
    }
}
