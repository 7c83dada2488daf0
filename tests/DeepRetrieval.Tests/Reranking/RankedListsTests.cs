using DeepRetrieval.Indexes;
using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

public class RankedListsTests
{
    [Fact]
    public void Constructor_RejectsWrongShapesAndIdsBelowMinusOne()
    {
        FluentActions.Invoking(() => new RankedLists(2, 3, new long[5], new float[6], ScoreOrder.LargerIsBetter))
            .Should().Throw<ArgumentException>().WithParameterName("ids").WithMessage("*2 × 3 = 6*");
        FluentActions.Invoking(() => new RankedLists(2, 3, new long[6], new float[7], ScoreOrder.LargerIsBetter))
            .Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => new RankedLists(1, 2, [0, -2], new float[2], ScoreOrder.LargerIsBetter))
            .Should().Throw<ArgumentException>().WithParameterName("ids").WithMessage("*ids[1] is -2*");
        FluentActions.Invoking(() => new RankedLists(0, 2, [], [], ScoreOrder.LargerIsBetter))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("queryCount");
    }

    [Fact]
    public void WithoutSelfMatches_DropsEachQuerysOwnId_OrTheLastEntryWhenAbsent()
    {
        var lists = new RankedLists(2, 3, [4, 1, 2, 7, 8, 9], [0f, 1f, 2f, 3f, 4f, 5f], ScoreOrder.SmallerIsBetter);

        RankedLists trimmed = lists.WithoutSelfMatches([1, 5]);

        trimmed.Width.Should().Be(2);
        trimmed.Ids.Should().Equal(4, 2, 7, 8);
        trimmed.Scores.Should().Equal(0f, 2f, 3f, 4f);
        FluentActions.Invoking(() => lists.WithoutSelfMatches([1])).Should().Throw<ArgumentException>().WithParameterName("queryIds");
    }

    [Fact]
    public void FromSearch_TakesTheScoreOrderOfTheMetric()
    {
        RankedLists.OrderOf(Metric.L2).Should().Be(ScoreOrder.SmallerIsBetter);
        RankedLists.OrderOf(Metric.InnerProduct).Should().Be(ScoreOrder.LargerIsBetter);
        RankedLists.OrderOf(Metric.Cosine).Should().Be(ScoreOrder.LargerIsBetter);
    }

    [Fact]
    public void Truncate_KeepsTheFirstEntries()
    {
        var lists = new RankedLists(2, 3, [1, 2, 3, 4, 5, 6], [1f, 2f, 3f, 4f, 5f, 6f], ScoreOrder.SmallerIsBetter);
        lists.Truncate(1).Ids.Should().Equal(1, 4);
        FluentActions.Invoking(() => lists.Truncate(4)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("width");
    }
}
