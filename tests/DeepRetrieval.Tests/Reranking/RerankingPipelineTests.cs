using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

public class RerankingPipelineTests
{
    [Fact]
    public void Rerank_RunsEachStageOnThePreviousStagesOutput()
    {
        float[] vectors = TestData.Clustered(200, 8, clusters: 4, seed: 7);
        for (int r = 0; r < 200; r++)
        {
            Span<float> row = vectors.AsSpan(r * 8, 8);
            float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot<float>(row, row));
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }

        var database = new MatrixDatabase(vectors[..(180 * 8)], 8);
        float[] queries = vectors[(180 * 8)..];
        var initial = RerankingFixtures.Initial(database, queries, 30);
        var dba = new DatabaseAugmentation(3, 1f);
        var qe = QueryExpansion.AlphaWeighted(2, 3f);
        var diffusion = new Diffusion(graphNeighbors: 10, queryNeighbors: 5);

        RerankingState chained = new RerankingPipeline(dba, qe, diffusion).Rerank(initial);
        RerankingState manual = diffusion.Rerank(qe.Rerank(dba.Rerank(initial)));

        chained.Lists.Ids.Should().Equal(manual.Lists.Ids);
        chained.Lists.Scores.Should().Equal(manual.Lists.Scores);
        chained.Database.Should().NotBeSameAs(database, "augmentation hands its augmented database to the later stages");
        new RerankingPipeline(dba, qe, diffusion).Name.Should().Be("DBA(k=3, α=1) → αQE(n=2, α=3) → diffusion(k=10, kq=5, γ=3, α=0.99)");
    }

    [Fact]
    public void Constructor_RejectsAnEmptyChainOrANullStage()
    {
        FluentActions.Invoking(() => new RerankingPipeline()).Should().Throw<ArgumentException>().WithParameterName("stages");
        FluentActions.Invoking(() => new RerankingPipeline(QueryExpansion.Average(1), null!)).Should().Throw<ArgumentException>().WithParameterName("stages");
    }

    [Fact]
    public void Rerank_HonoursCancellation()
    {
        var state = RerankingFixtures.Initial(RerankingFixtures.Database(), RerankingFixtures.Query, 2);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        FluentActions.Invoking(() => new RerankingPipeline(QueryExpansion.Average(1)).Rerank(state, cancellationToken: cancelled.Token))
            .Should().Throw<OperationCanceledException>();
    }
}
