using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

public class RerankingStateTests
{
    [Fact]
    public void Constructor_RejectsQueriesOfTheWrongShapeOrWithNaN()
    {
        var lists = new RankedLists(1, 2, [0, 1], [0.9f, 0.1f], ScoreOrder.LargerIsBetter);
        FluentActions.Invoking(() => new RerankingState(new float[3], RerankingFixtures.Database(), lists))
            .Should().Throw<ArgumentException>().WithParameterName("queries");
        FluentActions.Invoking(() => new RerankingState(new[] { float.NaN, 0f }, RerankingFixtures.Database(), lists))
            .Should().Throw<ArgumentException>().WithParameterName("queries");
    }

    [Fact]
    public void Constructor_RejectsNaNScoresOfListedIds_ButAcceptsThemOnMissingEntries()
    {
        var bad = new RankedLists(1, 2, [0, 1], [0.9f, float.NaN], ScoreOrder.LargerIsBetter);
        FluentActions.Invoking(() => new RerankingState(RerankingFixtures.Query, RerankingFixtures.Database(), bad))
            .Should().Throw<ArgumentException>().WithParameterName("lists").WithMessage("*id 1*NaN*");
        var missing = new RankedLists(1, 2, [0, -1], [0.9f, float.NaN], ScoreOrder.LargerIsBetter);
        new RerankingState(RerankingFixtures.Query, RerankingFixtures.Database(), missing).OutputWidth.Should().Be(2);
    }

    [Fact]
    public void OutputWidth_MustBePositive()
    {
        var state = RerankingFixtures.Initial(RerankingFixtures.Database(), RerankingFixtures.Query, 2);
        FluentActions.Invoking(() => state with { OutputWidth = 0 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("OutputWidth");
    }
}
