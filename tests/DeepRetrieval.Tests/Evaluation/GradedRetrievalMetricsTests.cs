using DeepRetrieval.Evaluation;

namespace DeepRetrieval.Tests.Evaluation;

public class GradedRetrievalMetricsTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void DcgAtK_MatchesHandWorkedExample()
    {
        // Grades [3, 2, 0, 1]: gains 2^g − 1 = [7, 3, 0, 1]; discounts log2(i + 1) = [1, log2 3, 2, log2 5].
        // DCG@4 = 7 + 3/1.5849625 + 0 + 1/2.3219281 = 7 + 1.8927893 + 0.4306766 = 9.3234658.
        double expected = 7 + 3 / Math.Log2(3) + 1 / Math.Log2(5);
        GradedRetrievalMetrics.DcgAtK([3, 2, 0, 1], 4).Should().BeApproximately(expected, Tolerance);
        GradedRetrievalMetrics.DcgAtK([3, 2, 0, 1], 4).Should().BeApproximately(9.3234658, 1e-6);

        // DCG@2 stops after rank 2: 7 + 1.8927893.
        GradedRetrievalMetrics.DcgAtK([3, 2, 0, 1], 2).Should().BeApproximately(7 + 3 / Math.Log2(3), Tolerance);
    }

    [Fact]
    public void NdcgAtK_MatchesHandWorkedExample()
    {
        // Retrieved grades [1, 2, 0]; every judged item of the query has grades {2, 1, 1}, one grade-1
        // item never retrieved.
        // DCG@3  = 1/1 + 3/log2 3 + 0           = 1 + 1.8927893           = 2.8927893
        // IDCG@3 = 3/1 + 1/log2 3 + 1/log2 4     = 3 + 0.6309298 + 0.5     = 4.1309298
        // NDCG@3 = 2.8927893 / 4.1309298 = 0.7002756
        double expected = (1 + 3 / Math.Log2(3)) / (3 + 1 / Math.Log2(3) + 0.5);
        double ndcg = GradedRetrievalMetrics.NdcgAtK([1, 2, 0], [2, 1, 1], 3);
        ndcg.Should().BeApproximately(expected, Tolerance);
        ndcg.Should().BeApproximately(0.7002756, 1e-6);
    }

    [Fact]
    public void NdcgAtK_IsZero_WhenIdealDcgIsZero()
    {
        // Nothing is relevant: IDCG = 0, and NDCG is defined as 0.
        GradedRetrievalMetrics.NdcgAtK([0, 0], [0, 0, 0], 2).Should().Be(0);
        GradedRetrievalMetrics.NdcgAtK([0], ReadOnlySpan<double>.Empty, 1).Should().Be(0);
    }

    [Fact]
    public void NdcgAtK_Is1_ForTheIdealOrdering()
    {
        GradedRetrievalMetrics.NdcgAtK([3, 2, 2, 0], [0, 2, 3, 2], 4).Should().BeApproximately(1, Tolerance);
    }

    [Fact]
    public void NdcgAtK_CountsRanksPastAShortListAsZero()
    {
        // One retrieved item of grade 2, two exist. DCG@2 = 3; IDCG@2 = 3 + 3/log2 3.
        double expected = 3 / (3 + 3 / Math.Log2(3));
        GradedRetrievalMetrics.NdcgAtK([2], [2, 2], 2).Should().BeApproximately(expected, Tolerance);
    }

    [Fact]
    public void NdcgAtK_Throws_WhenTheRankedListGainsMoreThanTheIdeal()
    {
        // The ideal grades miss the retrieved grade-1 item, so they cannot be the query's full judgements.
        Action act = () => GradedRetrievalMetrics.NdcgAtK([1], [0], 1);
        act.Should().Throw<ArgumentException>().WithParameterName("idealRelevance");
    }

    [Fact]
    public void MeanNdcgAtK_AveragesQueriesAndCountsZeroIdealAsZero()
    {
        double[] ranked =
        [
            1, 2, 0, // NDCG@3 = 0.7002756 (see NdcgAtK_MatchesHandWorkedExample)
            0, 0, 0, // IDCG = 0 → 0
        ];
        double[] ideal =
        [
            2, 1, 1, 0, // padded with a zero grade
            0, 0, 0, 0,
        ];

        // Mean = (0.7002756 + 0) / 2 = 0.3501378.
        double first = (1 + 3 / Math.Log2(3)) / (3 + 1 / Math.Log2(3) + 0.5);
        GradedRetrievalMetrics.MeanNdcgAtK(ranked, 3, ideal, 4, 3).Should().BeApproximately(first / 2, Tolerance);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NdcgAtK_Throws_OnInvalidGrade(double grade)
    {
        Action ranked = () => GradedRetrievalMetrics.NdcgAtK([grade], [1], 1);
        Action ideal = () => GradedRetrievalMetrics.NdcgAtK([1], [grade], 1);
        ranked.Should().Throw<ArgumentException>().WithParameterName("rankedRelevance").WithMessage("*finite and non-negative*");
        ideal.Should().Throw<ArgumentException>().WithParameterName("idealRelevance");
    }

    [Fact]
    public void NdcgAtK_Throws_WhenKIsNotPositive()
    {
        Action act = () => GradedRetrievalMetrics.NdcgAtK([1], [1], 0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }

    [Fact]
    public void DcgAtK_Throws_WhenListIsEmpty()
    {
        Action act = () => GradedRetrievalMetrics.DcgAtK(ReadOnlySpan<double>.Empty, 1);
        act.Should().Throw<ArgumentException>().WithParameterName("rankedRelevance").WithMessage("*empty*");
    }

    [Fact]
    public void MeanNdcgAtK_Throws_WhenQueryCountsDiffer()
    {
        Action act = () => GradedRetrievalMetrics.MeanNdcgAtK([1, 0, 1, 0], 2, [1, 1], 2, 2);
        act.Should().Throw<ArgumentException>().WithParameterName("idealRelevance").WithMessage("*2 query rows*1*");
    }

    [Fact]
    public void MeanNdcgAtK_Throws_WhenKExceedsListLength()
    {
        Action act = () => GradedRetrievalMetrics.MeanNdcgAtK([1, 0], 2, [1, 1], 2, 3);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }
}
