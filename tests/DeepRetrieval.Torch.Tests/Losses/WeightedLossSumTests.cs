using DeepRetrieval.Torch.Losses;
using static DeepRetrieval.Torch.Tests.Losses.SoftmaxLossTestTensors;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

public class WeightedLossSumTests
{
    [Fact]
    public void Sum_IsTheWeightedSumOfTheParts_AndIncludesTheirParameters()
    {
        using var scope = NewDisposeScope();
        var arcFace = WithWeight(new ArcFaceLoss(2, 2, scale: 4), Rows([1, 0], [0, 1]));
        var cosFace = WithWeight(new CosFaceLoss(2, 2, scale: 4), Rows([0.6, 0.8], [-1, 0]));
        var sum = new WeightedLossSum((arcFace, 0.5), (cosFace, 2.0));
        Tensor x = Rows([1, 2], [-1, 0.5]);
        Tensor labels = Labels(0, 1);
        double expected = 0.5 * Value(arcFace.call(x, labels)) + 2 * Value(cosFace.call(x, labels));
        Value(sum.call(x, labels)).Should().BeApproximately(expected, 1e-12);
        sum.parameters().Should().HaveCount(2);
        sum.named_parameters().Select(p => p.name).Should().BeEquivalentTo(["loss0.weight", "loss1.weight"]);
    }

    [Fact]
    public void Sum_RejectsNoLoss_TheSameLossTwice_AndNonFiniteWeights()
    {
        var loss = new CosFaceLoss(2, 2);
        FluentActions.Invoking(() => new WeightedLossSum()).Should().Throw<ArgumentException>().WithMessage("*at least one*");
        FluentActions.Invoking(() => new WeightedLossSum((loss, 1), (loss, 1))).Should().Throw<ArgumentException>().WithMessage("*same object*");
        FluentActions.Invoking(() => new WeightedLossSum((loss, double.NaN))).Should().Throw<ArgumentException>().WithMessage("*finite*");
    }
}
