using DeepRetrieval.Evaluation;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests.Evaluation;

public class NeighborRecallTests
{
    private const double Tolerance = 1e-12;

    // Two queries, three found ids each, four ground-truth ids each.
    private static readonly long[] Found = [1, 2, 3, 7, -1, 9];
    private static readonly long[] Truth = [3, 9, 1, 4, 9, 8, 7, 6];

    [Fact]
    public void RecallAtK_MatchesHandWorkedExample()
    {
        // q0: found {1, 2, 3} ∩ truth[0..3) {3, 9, 1} = {1, 3} → 2/3
        // q1: found {7, −1, 9} ∩ truth[0..3) {9, 8, 7} = {7, 9} → 2/3
        // recall@3 = (2/3 + 2/3) / 2 = 2/3
        NeighborRecall.RecallAtK(Found, 3, Truth, 4, 3).Should().BeApproximately(2.0 / 3, Tolerance);
    }

    [Fact]
    public void RecallAtK_ComparesOnlyTheFirstKOfBothLists()
    {
        // q0: found[0..2) {1, 2} ∩ truth[0..2) {3, 9} = {} → 0
        // q1: found[0..2) {7, −1} ∩ truth[0..2) {9, 8} = {} → 0
        NeighborRecall.RecallAtK(Found, 3, Truth, 4, 2).Should().Be(0);
    }

    [Fact]
    public void RecallAtK_AveragesPerQueryOverlap()
    {
        // q0: {1} ∩ {1} → 1/1; q1: {2} ∩ {5} → 0/1; recall@1 = (1 + 0) / 2 = 1/2.
        NeighborRecall.RecallAtK([1L, 2L], 1, [1L, 5L], 1, 1).Should().Be(0.5);
    }

    [Fact]
    public void RecallAtK_CountsARepeatedFoundIdOnce()
    {
        // found {5, 5} counts as the set {5}; truth {5, 6}: |{5}| / 2 = 1/2, never 2/2.
        NeighborRecall.RecallAtK([5L, 5L], 2, [5L, 6L], 2, 2).Should().Be(0.5);
    }

    [Fact]
    public void RecallAtK_NeverMatchesMissingIds()
    {
        // Both rows hold −1 twice; −1 is "no neighbour", not an id: overlap {4} → 1/3.
        NeighborRecall.RecallAtK([4L, -1L, -1L], 3, [4L, -1L, -1L], 3, 3).Should().BeApproximately(1.0 / 3, Tolerance);
    }

    [Fact]
    public void RecallAtK_Is1_WhenTheSearchIsExact()
    {
        NeighborRecall.RecallAtK([3L, 9L, 1L, 9L, 8L, 7L], 3, Truth, 4, 3).Should().Be(1);
    }

    [Fact]
    public void RecallAtK_AcceptsIntGroundTruth()
    {
        int[] truth = [3, 9, 1, 4, 9, 8, 7, 6];
        NeighborRecall.RecallAtK(Found, 3, truth, 4, 3).Should().BeApproximately(2.0 / 3, Tolerance);
    }

    [Fact]
    public void RecallAtK_AgreesBetweenSpansAndSearchResult()
    {
        var result = new SearchResult(2, 3, (long[])Found.Clone(), new float[6]);
        NeighborRecall.RecallAtK(result, Truth, 4, 3).Should().BeApproximately(2.0 / 3, Tolerance);
        NeighborRecall.RecallAtK(result, [3, 9, 1, 4, 9, 8, 7, 6], 4, 3).Should().BeApproximately(2.0 / 3, Tolerance);
    }

    [Fact]
    public void RecallAtK_HandlesRowsTooLongForTheStack()
    {
        // k = 200 needs 400 sorted ids, more than the stack buffer. Found holds the truth reversed
        // with its last half replaced by ids outside the truth: overlap 100 → 100/200.
        const int k = 200;
        long[] truth = new long[k];
        long[] found = new long[k];
        for (int i = 0; i < k; i++)
        {
            truth[i] = i;
            found[i] = i < k / 2 ? k - 1 - i : 1000 + i;
        }

        NeighborRecall.RecallAtK(found, k, truth, k, k).Should().Be(0.5);
    }

    [Fact]
    public void NearestNeighborRecallAtK_IsFractionOfQueriesWhoseTrueNearestWasFound()
    {
        // q0: true nearest 3 is found[2]; q1: true nearest 9 is found[2].
        // 1-recall@3 = 2/2 = 1; 1-recall@1: found[0] = 1 ≠ 3 and 7 ≠ 9 → 0.
        NeighborRecall.NearestNeighborRecallAtK(Found, 3, Truth, 4, 3).Should().Be(1);
        NeighborRecall.NearestNeighborRecallAtK(Found, 3, Truth, 4, 1).Should().Be(0);
        NeighborRecall.NearestNeighborRecallAtK(Found, 3, [3, 9, 1, 4, 9, 8, 7, 6], 4, 3).Should().Be(1);
    }

    [Fact]
    public void NearestNeighborRecallAtK_Throws_WhenGroundTruthRowHasNoNeighbour()
    {
        Action act = () => NeighborRecall.NearestNeighborRecallAtK([1L], 1, [-1L], 1, 1);
        act.Should().Throw<ArgumentException>().WithParameterName("groundTruthIds").WithMessage("*row 0*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void RecallAtK_Throws_WhenKIsOutOfRange(int cutOff)
    {
        Action act = () => NeighborRecall.RecallAtK(Found, 3, Truth, 4, cutOff);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }

    [Fact]
    public void RecallAtK_Throws_WhenGroundTruthIsShorterThanK()
    {
        Action act = () => NeighborRecall.RecallAtK(Found, 3, [3L, 9L, 1L, 4L], 2, 3);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }

    [Fact]
    public void RecallAtK_Throws_WhenQueryCountsDiffer()
    {
        Action act = () => NeighborRecall.RecallAtK(Found, 3, [3L, 9L, 1L, 4L], 4, 3);
        act.Should().Throw<ArgumentException>().WithParameterName("groundTruthIds").WithMessage("*2 query rows*1*");
    }

    [Fact]
    public void RecallAtK_Throws_WhenFoundIsRagged()
    {
        Action act = () => NeighborRecall.RecallAtK([1L, 2L, 3L, 4L], 3, Truth, 4, 3);
        act.Should().Throw<ArgumentException>().WithParameterName("foundIds");
    }

    [Fact]
    public void RecallAtK_Throws_WhenInputIsEmpty()
    {
        Action act = () => NeighborRecall.RecallAtK(ReadOnlySpan<long>.Empty, 3, ReadOnlySpan<long>.Empty, 3, 3);
        act.Should().Throw<ArgumentException>().WithParameterName("foundIds").WithMessage("*empty*");
    }

    [Fact]
    public void RecallAtK_Throws_WhenSearchResultIsNull()
    {
        Action act = () => NeighborRecall.RecallAtK(null!, Truth, 4, 3);
        act.Should().Throw<ArgumentNullException>().WithParameterName("result");
    }
}
