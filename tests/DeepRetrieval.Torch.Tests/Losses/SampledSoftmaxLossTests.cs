using DeepRetrieval.Torch.Losses;
using static DeepRetrieval.Torch.Tests.Losses.SoftmaxLossTestTensors;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

public class SampledSoftmaxLossTests
{
    private static Tensor Weight() => Rows([0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [0.9, 0.9], [-1.2, -0.4], [0.1, 1.1]);

    private static Tensor Embeddings => Rows([1.0, 0.5], [-0.4, 1.2], [0.7, -0.9]);

    private static double FullCrossEntropy(ClassifierLoss loss, Tensor x, Tensor labels) =>
        new LabelSmoothingCrossEntropyLoss(0).call(loss.Logits(x), labels).item<double>();

    [Fact]
    public void WithEveryClassSampled_EqualsFullSoftmaxCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new SampledSoftmaxLoss(6, 2, sampledNegatives: 100), Weight());
        Value(loss.call(Embeddings, Labels(0, 3, 3))).Should().BeApproximately(FullCrossEntropy(loss, Embeddings, Labels(0, 3, 3)), 1e-12);
    }

    [Fact]
    public void LogQCorrection_MakesTheEstimateExact_WhenAllOtherClassesScoreAlike()
    {
        using var scope = NewDisposeScope();
        // Classes 1..5 share one weight row, so any one drawn class scaled by 1/Q = 5 reproduces their total exactly.
        Tensor weight = Rows([0.5, -1.0], [0.3, 0.7], [0.3, 0.7], [0.3, 0.7], [0.3, 0.7], [0.3, 0.7]);
        var loss = WithWeight(new SampledSoftmaxLoss(6, 2, sampledNegatives: 1, seed: 7), weight);
        Tensor x = Rows([1.0, 0.5]);
        Value(loss.call(x, Labels(0))).Should().BeApproximately(FullCrossEntropy(loss, x, Labels(0)), 1e-12);
    }

    [Fact]
    public void SameSeed_SameDraws_AndDrawsDifferFromCallToCall()
    {
        using var scope = NewDisposeScope();
        var first = WithWeight(new SampledSoftmaxLoss(6, 2, sampledNegatives: 2, seed: 3), Weight());
        var second = WithWeight(new SampledSoftmaxLoss(6, 2, sampledNegatives: 2, seed: 3), Weight());
        double[] a = Enumerable.Range(0, 8).Select(_ => Value(first.call(Embeddings, Labels(0, 1, 1)))).ToArray();
        double[] b = Enumerable.Range(0, 8).Select(_ => Value(second.call(Embeddings, Labels(0, 1, 1)))).ToArray();
        a.Should().Equal(b);
        a.Distinct().Count().Should().BeGreaterThan(1, "successive batches draw different negatives");
    }

    [Fact]
    public void Gradient_MatchesFiniteDifferences()
    {
        // All classes drawn keeps the function deterministic across the finite-difference evaluations.
        var loss = WithWeight(new SampledSoftmaxLoss(6, 2, sampledNegatives: 6), Weight());
        GradientCheck.AssertMatches(x => loss.call(x, Labels(0, 3, 5)), Embeddings);
    }

    [Fact]
    public void Gradient_OnlyReachesTheSampledClassWeights()
    {
        using var scope = NewDisposeScope();
        var loss = WithWeight(new SampledSoftmaxLoss(6, 2, sampledNegatives: 2, seed: 1), Weight());
        loss.call(Embeddings, Labels(0, 0, 2)).backward();
        Tensor touched = loss.Weight.grad!.abs().sum(1).gt(0);
        touched.sum().item<long>().Should().Be(4, "two label classes and two drawn negatives");
        touched[0].item<bool>().Should().BeTrue();
        touched[2].item<bool>().Should().BeTrue();
    }
}
