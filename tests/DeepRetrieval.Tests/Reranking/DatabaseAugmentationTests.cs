using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

public class DatabaseAugmentationTests
{
    [Fact]
    public void Augment_AddsEachVectorsNearestOthers_FromTheOriginalVectors()
    {
        // Nearest others: x0 → x3 (0.8), x1 → x0 (0), x2 ↔ x3 (0.8432). With α = 0 every weight is 1:
        // x0' = norm(x0 + x3) = (0.569210, 0.822192), x1' = norm(x1 + x0) = (0.989949, −0.141421), x2' = x3' = (0, 1).
        MatrixDatabase augmented = new DatabaseAugmentation(1).Augment(RerankingFixtures.Database([5, 6, 7, 8]));

        augmented.RowIds.ToArray().Should().Equal(5, 6, 7, 8);
        augmented.Vectors.ToArray().Should().Equal([0.569210f, 0.822192f, 0.989949f, -0.141421f, 0f, 1f, 0f, 1f], (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void Augment_WeighsBySimilarityToThePowerAlpha_AndZeroesNegativeOrZeroSimilarities()
    {
        // α = 2: x0' = norm(x0 + 0.64·x3) = (0.627692, 0.778462); x1's only neighbour has similarity 0, so x1' = x1;
        // x2' = norm(x2 + 0.8432²·x3) = (−0.049208, 0.998789), x3' = (0.049208, 0.998789).
        MatrixDatabase augmented = new DatabaseAugmentation(1, 2f).Augment(RerankingFixtures.Database());

        augmented.Vectors.ToArray().Should().Equal([0.627692f, 0.778462f, 0.6f, -0.8f, -0.049208f, 0.998789f, 0.049208f, 0.998789f], (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void Rerank_SearchesTheQueriesInTheAugmentedDatabase_AndPassesItOn()
    {
        var state = RerankingFixtures.Initial(RerankingFixtures.Database(), RerankingFixtures.Query, 4);

        RerankingState result = new DatabaseAugmentation(1).Rerank(state);

        // (1, 0) against the augmented vectors: 0.569210, 0.989949, 0, 0 (ties by id).
        result.Lists.GetIds(0).ToArray().Should().Equal(1, 0, 2, 3);
        result.Database.Should().NotBeSameAs(state.Database);
        result.Database.Count.Should().Be(4);
    }

    [Fact]
    public void Augment_Throws_WhenKIsNotSmallerThanTheDatabase()
    {
        FluentActions.Invoking(() => new DatabaseAugmentation(4).Augment(RerankingFixtures.Database()))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Neighbors");
    }
}
