using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

public class QueryExpansionTests
{
    [Fact]
    public void Average_AddsTheTopResultsToTheQuery_AndSearchesAgain()
    {
        // AQE, n = 1: (1, 0) + x0 = (1.8, 0.6) → (0.948683, 0.316228); similarities 0.948683, 0.316228, 0.037947, 0.569210,
        // so x3 overtakes x1.
        var state = RerankingFixtures.Initial(RerankingFixtures.Database(), RerankingFixtures.Query, 4);
        state.Lists.GetIds(0).ToArray().Should().Equal(0, 1, 3, 2);

        RankedLists lists = QueryExpansion.Average(1).Rerank(state).Lists;

        lists.GetIds(0).ToArray().Should().Equal(0, 3, 1, 2);
        lists.GetScores(0).ToArray().Should().Equal([0.948683f, 0.569210f, 0.316228f, 0.037947f], (a, b) => Math.Abs(a - b) < 1e-5f);
        lists.Order.Should().Be(ScoreOrder.LargerIsBetter);
    }

    [Fact]
    public void AlphaWeighted_WeighsEachNeighbourBySimilarityToThePowerAlpha()
    {
        // αQE, n = 2, α = 3: (1, 0) + 0.8³·x0 + 0.6³·x1 = (1.5392, 0.1344) → (0.996209, 0.086987);
        // similarities 0.849160, 0.528136, −0.195431, 0.362446.
        var state = RerankingFixtures.Initial(RerankingFixtures.Database(), RerankingFixtures.Query, 4);

        RankedLists lists = QueryExpansion.AlphaWeighted(2, 3f).Rerank(state).Lists;

        lists.GetIds(0).ToArray().Should().Equal(0, 1, 3, 2);
        lists.GetScores(0).ToArray().Should().Equal([0.849160f, 0.528136f, 0.362446f, -0.195431f], (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void Shortlist_RescoresOnlyTheListedIds()
    {
        var state = RerankingFixtures.Initial(RerankingFixtures.Database(), RerankingFixtures.Query, 3);

        RankedLists lists = QueryExpansion.Average(1, QueryExpansionSearch.Shortlist).Rerank(state).Lists;

        lists.GetIds(0).ToArray().Should().Equal(0, 3, 1);
        FluentActions.Invoking(() => QueryExpansion.Average(1, QueryExpansionSearch.Shortlist).Rerank(state with { OutputWidth = 4 }))
            .Should().Throw<ArgumentException>().WithParameterName("state");
    }

    [Fact]
    public void Rerank_SkipsMissingEntries_AndUsesCallerIds()
    {
        var database = RerankingFixtures.Database([10, 11, 12, 13]);
        var lists = new RankedLists(1, 3, [-1, 10, 11], [float.NaN, 0.8f, 0.6f], ScoreOrder.LargerIsBetter);
        var state = new RerankingState(RerankingFixtures.Query, database, lists) { OutputWidth = 4 };

        // The missing entry is skipped: n = 1 expands with x0 (id 10), as in the AQE test above.
        RankedLists result = QueryExpansion.Average(1).Rerank(state).Lists;

        result.GetIds(0).ToArray().Should().Equal(10, 13, 11, 12);
    }

    [Fact]
    public void Rerank_ReadsOnlyTheListedVectors_AndSearchesThroughTheDatabase()
    {
        var counting = new CountingDatabase(RerankingFixtures.Database());
        var state = RerankingFixtures.Initial(counting, RerankingFixtures.Query, 4);
        counting.Searches = 0;

        RankedLists lists = QueryExpansion.Average(1).Rerank(state).Lists;

        lists.GetIds(0).ToArray().Should().Equal(0, 3, 1, 2);
        counting.Reconstructions.Should().Be(1, "AQE with n = 1 reads one vector per query");
        counting.Searches.Should().Be(1, "the second search goes through the database (an ANN index stays an ANN index)");
    }

    private sealed class CountingDatabase(MatrixDatabase inner) : IRerankingDatabase
    {
        public int Reconstructions { get; private set; }
        public int Searches { get; set; }
        public int Dimension => inner.Dimension;
        public DeepRetrieval.Metric Metric => inner.Metric;
        public long Count => inner.Count;
        public IEnumerable<long> Ids => inner.Ids;
        public bool Contains(long id) => inner.Contains(id);

        public void Reconstruct(long id, Span<float> destination)
        {
            Reconstructions++;
            inner.Reconstruct(id, destination);
        }

        public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, DeepRetrieval.Indexes.SearchOptions? options = null)
        {
            Searches++;
            inner.Search(queries, k, ids, distances, options);
        }
    }

    [Fact]
    public void Rerank_Throws_WhenAListedIdIsNotInTheDatabase()
    {
        var lists = new RankedLists(1, 2, [0, 7], [0.8f, 0.6f], ScoreOrder.LargerIsBetter);
        var state = new RerankingState(RerankingFixtures.Query, RerankingFixtures.Database(), lists);
        FluentActions.Invoking(() => QueryExpansion.Average(2).Rerank(state))
            .Should().Throw<ArgumentException>().WithParameterName("state").WithMessage("*id 7*");
    }

    [Fact]
    public void Rerank_Throws_WhenNExceedsTheListsOrTheDatabase()
    {
        var state = RerankingFixtures.Initial(RerankingFixtures.Database(), RerankingFixtures.Query, 2);
        FluentActions.Invoking(() => QueryExpansion.Average(3).Rerank(state)).Should().Throw<ArgumentException>().WithParameterName("Neighbors");
        FluentActions.Invoking(() => QueryExpansion.Average(5).Rerank(state)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Neighbors");
        FluentActions.Invoking(() => QueryExpansion.Average(1).Rerank(state with { OutputWidth = 5 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("OutputWidth");
    }

    [Fact]
    public void Constructor_RejectsBadParameters()
    {
        FluentActions.Invoking(() => new QueryExpansion(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("neighbors");
        FluentActions.Invoking(() => new QueryExpansion(2, -1f)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alpha");
        FluentActions.Invoking(() => new QueryExpansion(2, float.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alpha");
    }
}
