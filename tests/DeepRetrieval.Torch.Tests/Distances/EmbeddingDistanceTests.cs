using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Distances;

public class EmbeddingDistanceTests
{
    private static Tensor Rows(params double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Float64);

    [Fact]
    public void Cosine_MatrixMatchesHandValues()
    {
        using var scope = NewDisposeScope();
        Tensor a = Rows([3, 4], [1, 0]);
        Tensor m = new CosineSimilarity().Pairwise(a);
        m.data<double>().ToArray().Should().BeEquivalentTo([1.0, 0.6, 0.6, 1.0], o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void Lp_UnnormalisedEuclidean_MatchesHandValues_AndSquaredPowerSquaresIt()
    {
        using var scope = NewDisposeScope();
        Tensor a = Rows([0, 0], [3, 4]);
        Tensor b = Rows([0, 1]);
        new LpDistance(normalizeEmbeddings: false).Pairwise(a, b).data<double>().ToArray().Should().Equal(1.0, Math.Sqrt(9 + 9));
        new LpDistance(normalizeEmbeddings: false, power: 2).Pairwise(a, b).data<double>().ToArray()[1].Should().BeApproximately(18, 1e-12);
        new LpDistance(normalizeEmbeddings: false, p: 1).Paired(a, Rows([1, 1], [0, 0])).data<double>().ToArray().Should().Equal(2.0, 7.0);
    }

    [Fact]
    public void Violation_IsPositiveMinusNegativeForDistances_AndReversedForSimilarities()
    {
        using var scope = NewDisposeScope();
        Tensor pos = tensor(new[] { 1.0 }), neg = tensor(new[] { 3.0 });
        new LpDistance().Violation(pos, neg).item<double>().Should().Be(-2);
        new CosineSimilarity().Violation(pos, neg).item<double>().Should().Be(2);
    }

    [Fact]
    public void SquaredEuclidean_HasFiniteGradient_WhereRowsCoincide()
    {
        GradientCheck.AssertMatches(x => new LpDistance(normalizeEmbeddings: false, power: 2).Pairwise(x).sum(), Rows([1, 2], [1, 2], [0, 1]));
    }

    [Fact]
    public void Pairwise_RejectsMismatchedWidths()
    {
        using var scope = NewDisposeScope();
        var act = () => new CosineSimilarity().Pairwise(zeros(2, 3), zeros(2, 4));
        act.Should().Throw<ArgumentException>().WithMessage("*3 components*4*");
    }
}
