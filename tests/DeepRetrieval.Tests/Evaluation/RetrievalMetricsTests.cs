using DeepRetrieval.Evaluation;

namespace DeepRetrieval.Tests.Evaluation;

public class RetrievalMetricsTests
{
    private const double Tolerance = 1e-12;
    private const bool T = true;
    private const bool F = false;

    [Fact]
    public void RecallAtK_IsFractionOfQueriesWithAHitInTopK()
    {
        bool[] relevance =
        [
            F, T, F, F, // first hit at rank 2
            F, F, F, T, // first hit at rank 4
            F, F, F, F, // no hit
        ];

        // R@1 = 0/3; R@2 = 1/3 (q0); R@4 = 2/3 (q0, q1).
        RetrievalMetrics.RecallAtK(relevance, 4, 1).Should().Be(0);
        RetrievalMetrics.RecallAtK(relevance, 4, 2).Should().BeApproximately(1.0 / 3, Tolerance);
        RetrievalMetrics.RecallAtK(relevance, 4, 4).Should().BeApproximately(2.0 / 3, Tolerance);
    }

    [Fact]
    public void PrecisionAtK_MatchesHandWorkedExample()
    {
        bool[] relevance =
        [
            T, T, F, T,
            F, T, F, F,
        ];

        // P@2 = (2/2 + 1/2) / 2 = 0.75; P@4 = (3/4 + 1/4) / 2 = 0.5.
        RetrievalMetrics.PrecisionAtK(relevance, 4, 2).Should().BeApproximately(0.75, Tolerance);
        RetrievalMetrics.PrecisionAtK(relevance, 4, 4).Should().BeApproximately(0.5, Tolerance);
    }

    [Fact]
    public void AveragePrecision_DividesByTotalRelevantIncludingUnretrievedItems()
    {
        // Hits at ranks 1 and 3: P(1) = 1, P(3) = 2/3; Σ = 5/3.
        // 4 relevant items exist: AP = (5/3) / 4 = 5/12. Only the 2 retrieved exist: AP = (5/3) / 2 = 5/6.
        bool[] ranked = [T, F, T, F];
        RetrievalMetrics.AveragePrecision(ranked, 4).Should().BeApproximately(5.0 / 12, Tolerance);
        RetrievalMetrics.AveragePrecision(ranked, 2).Should().BeApproximately(5.0 / 6, Tolerance);
    }

    [Fact]
    public void AveragePrecision_Throws_WhenTotalIsBelowTheRelevantItemsInTheList()
    {
        Action act = () => RetrievalMetrics.AveragePrecision([T, T], 1);
        act.Should().Throw<ArgumentException>().WithParameterName("totalRelevant");
    }

    [Fact]
    public void AveragePrecision_Throws_WhenTotalIsNotPositive()
    {
        Action act = () => RetrievalMetrics.AveragePrecision([F, F], 0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("totalRelevant");
    }

    [Fact]
    public void MeanAveragePrecision_SkipsQueriesWithNothingRelevant()
    {
        bool[] relevance =
        [
            T, F, T, F, // total 4: AP = (1 + 2/3) / 4 = 5/12
            F, T, F, F, // total 1: AP = (1/2) / 1 = 1/2
            F, F, F, F, // total 0: skipped
        ];

        // mAP = (5/12 + 6/12) / 2 = 11/24.
        RetrievalMetrics.MeanAveragePrecision(relevance, 4, [4, 1, 0]).Should().BeApproximately(11.0 / 24, Tolerance);
    }

    [Fact]
    public void MeanAveragePrecision_IsNaN_WhenNoQueryHasARelevantItem()
    {
        RetrievalMetrics.MeanAveragePrecision([F, F, F, F], 2, [0, 0]).Should().Be(double.NaN);
    }

    [Fact]
    public void MeanAveragePrecision_Throws_WhenARowHasMoreRelevantItemsThanItsTotal()
    {
        Action act = () => RetrievalMetrics.MeanAveragePrecision([T, T, F, F], 2, [1, 0]);
        act.Should().Throw<ArgumentException>().WithParameterName("totalRelevant").WithMessage("*totalRelevant[0] is 1*");
    }

    [Fact]
    public void AveragePrecisionFromScores_MatchesHandWorkedExample()
    {
        // Descending scores: 0.8 (rel), 0.4, 0.35 (rel), 0.1 → P(1) = 1, P(3) = 2/3; AP = (5/3) / 2 = 5/6.
        RetrievalMetrics.AveragePrecision([0.1f, 0.4f, 0.35f, 0.8f], [F, F, T, T]).Should().BeApproximately(5.0 / 6, 1e-9);
        RetrievalMetrics.AveragePrecision([0.1, 0.4, 0.35, 0.8], [F, F, T, T]).Should().BeApproximately(5.0 / 6, Tolerance);
    }

    [Fact]
    public void AveragePrecisionFromScores_RanksTiesPessimistically()
    {
        // 0.9 (not rel) first; the 0.5 tie holds one relevant and one not: the non-relevant goes first,
        // so the relevant item is at rank 3: AP = (1/3) / 1 = 1/3 (optimistic order would give 1/2).
        RetrievalMetrics.AveragePrecision([0.9f, 0.5f, 0.5f], [F, T, F]).Should().BeApproximately(1.0 / 3, Tolerance);
        RetrievalMetrics.AveragePrecision([0.5f, 0.5f, 0.9f], [T, F, F]).Should().BeApproximately(1.0 / 3, Tolerance);
    }

    [Fact]
    public void AveragePrecisionFromScores_Throws_OnNaNScore()
    {
        Action act = () => RetrievalMetrics.AveragePrecision([0.5f, float.NaN], [T, F]);
        act.Should().Throw<ArgumentException>().WithParameterName("scores").WithMessage("*scores[1] is NaN*");
    }

    [Fact]
    public void AveragePrecisionFromScores_Throws_WhenNothingIsRelevant()
    {
        Action act = () => RetrievalMetrics.AveragePrecision([0.5f, 0.4f], [F, F]);
        act.Should().Throw<ArgumentException>().WithParameterName("relevant");
    }

    [Fact]
    public void AveragePrecisionFromScores_Throws_OnLengthMismatch()
    {
        Action act = () => RetrievalMetrics.AveragePrecision([0.5f, 0.4f], [T]);
        act.Should().Throw<ArgumentException>().WithParameterName("relevant").WithMessage("*same length*");
    }

    [Fact]
    public void MapAtR_MatchesHandWorkedExample()
    {
        bool[] relevance =
        [
            T, F, T, T, T, // R = 4
            F, T, F, F, F, // R = 2
        ];

        // q0, R = 4, top 4 = [1, 0, 1, 1]: P(1) = 1, P(3) = 2/3, P(4) = 3/4;
        //     MAP@R = (1 + 2/3 + 3/4) / 4 = (29/12) / 4 = 29/48; rank 5 lies beyond R and is ignored.
        //     R-Precision = 3/4.
        // q1, R = 2, top 2 = [0, 1]: P(2) = 1/2; MAP@R = (1/2) / 2 = 1/4 = 12/48. R-Precision = 1/2.
        // Means: MAP@R = (29/48 + 12/48) / 2 = 41/96; R-Precision = (3/4 + 1/2) / 2 = 5/8.
        int[] r = [4, 2];
        RetrievalMetrics.MeanAveragePrecisionAtR(relevance, 5, r).Should().BeApproximately(41.0 / 96, Tolerance);
        RetrievalMetrics.RPrecision(relevance, 5, r).Should().BeApproximately(5.0 / 8, Tolerance);
    }

    [Fact]
    public void MapAtR_Is1_ForAPerfectRanking()
    {
        RetrievalMetrics.MeanAveragePrecisionAtR([T, T, T, F], 4, [3]).Should().Be(1);
        RetrievalMetrics.RPrecision([T, T, T, F], 4, [3]).Should().Be(1);
    }

    [Fact]
    public void MapAtR_CountsRanksPastTheListAsNotRelevant_WhenRExceedsListLength()
    {
        // R = 5 but only 3 ranks: [1, 1, 0, (0), (0)]. MAP@R = (1 + 1) / 5 = 0.4; R-Precision = 2/5.
        RetrievalMetrics.MeanAveragePrecisionAtR([T, T, F], 3, [5]).Should().BeApproximately(0.4, Tolerance);
        RetrievalMetrics.RPrecision([T, T, F], 3, [5]).Should().BeApproximately(0.4, Tolerance);
    }

    [Fact]
    public void MapAtR_SkipsQueriesWithRZero()
    {
        // q0: R = 1, [1, 0] → 1. q1: R = 0 → skipped, so the mean is 1, not 1/2.
        RetrievalMetrics.MeanAveragePrecisionAtR([T, F, F, F], 2, [1, 0]).Should().Be(1);
        RetrievalMetrics.RPrecision([T, F, F, F], 2, [1, 0]).Should().Be(1);
        RetrievalMetrics.MeanAveragePrecisionAtR([F, F], 2, [0]).Should().Be(double.NaN);
    }

    [Fact]
    public void MapAtR_Throws_WhenARowHoldsMoreRelevantItemsThanR()
    {
        // The typical cause: the query itself left at rank 1 of its own list.
        Action act = () => RetrievalMetrics.MeanAveragePrecisionAtR([T, T, F], 3, [1]);
        act.Should().Throw<ArgumentException>().WithParameterName("relevantCounts").WithMessage("*own neighbour list*");
    }

    [Fact]
    public void MapAtR_Throws_WhenRIsNegative()
    {
        Action act = () => RetrievalMetrics.RPrecision([T, F], 2, [-1]);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("relevantCounts");
    }

    [Fact]
    public void MapAtR_Throws_WhenCountsDoNotMatchQueries()
    {
        Action act = () => RetrievalMetrics.MeanAveragePrecisionAtR([T, F, T, F], 2, [1]);
        act.Should().Throw<ArgumentException>().WithParameterName("relevantCounts").WithMessage("*one value per query*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void RecallAtK_Throws_WhenKIsOutOfRange(int cutOff)
    {
        Action recall = () => RetrievalMetrics.RecallAtK([T, F, F, F], 4, cutOff);
        Action precision = () => RetrievalMetrics.PrecisionAtK([T, F, F, F], 4, cutOff);
        recall.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
        precision.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }

    [Fact]
    public void RecallAtK_Throws_WhenRelevanceIsRagged()
    {
        Action act = () => RetrievalMetrics.RecallAtK([T, F, F], 2, 1);
        act.Should().Throw<ArgumentException>().WithParameterName("relevance").WithMessage("*not a whole number of rows*");
    }

    [Fact]
    public void RecallAtK_Throws_WhenRelevanceIsEmpty()
    {
        Action act = () => RetrievalMetrics.RecallAtK(ReadOnlySpan<bool>.Empty, 2, 1);
        act.Should().Throw<ArgumentException>().WithParameterName("relevance").WithMessage("*empty*");
    }

    [Fact]
    public void RecallAtK_Throws_WhenListLengthIsNotPositive()
    {
        Action act = () => RetrievalMetrics.PrecisionAtK([T], 0, 1);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("listLength");
    }
}
