using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Reducers;

public class ReducerTests
{
    private static Tensor Labels => tensor(new long[] { 0, 1, 1 });

    private static double Reduce(LossReducer reducer, double[] values, long[]? anchors = null, LossTermKind kind = LossTermKind.Element) =>
        reducer.Reduce(new LossTerms(tensor(values), kind, anchors is null ? null : tensor(anchors)), Labels).item<double>();

    [Fact]
    public void Mean_AvgNonZero_And_Sum_MatchHandValues()
    {
        using var scope = NewDisposeScope();
        Reduce(new MeanReducer(), [0, 2, 4]).Should().Be(2);
        Reduce(new AvgNonZeroReducer(), [0, 2, 4]).Should().Be(3);
        Reduce(new SumReducer(), [0, 2, 4]).Should().Be(6);
    }

    [Fact]
    public void PerAnchor_AveragesEachAnchorOnce()
    {
        using var scope = NewDisposeScope();
        // Anchor 0 has values 1 and 3 (mean 2), anchor 2 has 5: mean of the anchor means is 3.5, not the plain mean 3.
        Reduce(new PerAnchorReducer(), [1, 3, 5], [0, 0, 2], LossTermKind.Triplet).Should().Be(3.5);
    }

    [Fact]
    public void ClassWeighted_WeighsByTheAnchorsClass()
    {
        using var scope = NewDisposeScope();
        // Anchors 0 (class 0, weight 1) and 1 (class 1, weight 3): (2·1 + 4·3) / 2 = 7.
        Reduce(new ClassWeightedReducer([1, 3]), [2, 4], [0, 1], LossTermKind.PositivePair).Should().Be(7);
        var act = () => Reduce(new ClassWeightedReducer([1]), [2, 4], [0, 1], LossTermKind.PositivePair);
        act.Should().Throw<ArgumentException>().WithMessage("*Label 1 has no class weight*");
    }

    [Fact]
    public void EmptyTerms_ReduceToZero_WithZeroGradient()
    {
        using var scope = NewDisposeScope();
        Tensor x = ones(3, dtype: ScalarType.Float64).requires_grad_(true);
        foreach (LossReducer reducer in new LossReducer[] { new MeanReducer(), new AvgNonZeroReducer(), new PerAnchorReducer(), new ClassWeightedReducer([1, 1]) })
        {
            x.grad?.zero_();
            Tensor empty = x.index_select(0, zeros(0, dtype: ScalarType.Int64)) * 2;
            Tensor loss = reducer.Reduce(new LossTerms(empty, LossTermKind.Triplet, zeros(0, dtype: ScalarType.Int64)), Labels);
            loss.item<double>().Should().Be(0);
            loss.backward();
            x.grad!.abs().sum().item<double>().Should().Be(0);
        }
    }

    [Fact]
    public void Terms_RejectMissingAnchorsForPairs()
    {
        using var scope = NewDisposeScope();
        var act = () => new LossTerms(zeros(2), LossTermKind.PositivePair);
        act.Should().Throw<ArgumentException>().WithMessage("*anchor*");
    }
}
