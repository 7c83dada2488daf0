using DeepRetrieval.Torch.Heads;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Heads;

public class HeadTests
{
    [Fact]
    public void L2Normalization_ScalesRowsToUnitLength_AndKeepsZeroRowsZero()
    {
        using var scope = NewDisposeScope();
        double[] normalised = new L2Normalization().call(tensor(new double[] { 3, 4, 0, 0 }, [2, 2])).data<double>().ToArray();
        normalised.Should().Equal(0.6, 0.8, 0, 0);
    }

    [Fact]
    public void LinearProjection_MatchesHandValue_WithAndWithoutBiasAndNormalisation()
    {
        using var scope = NewDisposeScope();
        var projection = new LinearProjection(2, 2).to(ScalarType.Float64);
        using (no_grad())
        {
            projection.Linear.weight!.copy_(tensor(new double[] { 1, 2, 0, -1 }, [2, 2]));
            projection.Linear.bias!.copy_(tensor(new double[] { 0.5, 3 }));
        }
        Tensor input = tensor(new double[] { 1, 1 }, [1, 2]);
        projection.call(input).data<double>().ToArray().Should().Equal(3.5, 2);

        var normalised = new LinearProjection(2, 2, bias: false, normalize: true).to(ScalarType.Float64);
        normalised.parameters().Should().ContainSingle("only the weight is learned without a bias");
        using (no_grad()) normalised.Linear.weight!.copy_(tensor(new double[] { 3, 0, 0, 4 }, [2, 2]));
        normalised.call(input).data<double>().ToArray().Should().Equal(0.6, 0.8);

        var act = () => projection.call(zeros([1, 3], ScalarType.Float64));
        act.Should().Throw<ArgumentException>().WithMessage("*2 components*3*");
    }

    [Fact]
    public void BNNeck_NormalisesWithTheBatch_FreezesTheBias_AndReturnsBothFeatures()
    {
        using var scope = NewDisposeScope();
        var neck = new BNNeck(1).to(ScalarType.Float64);
        neck.train();
        Tensor input = tensor(new double[] { 1, 3 }, [2, 1]).requires_grad_(true);
        var (before, after) = neck.ForwardBoth(input);
        before.Should().BeSameAs(input);
        // Batch mean 2, biased variance 1: (x − 2) / √(1 + 1e−5).
        after.data<double>().ToArray().Should().Equal([-1 / Math.Sqrt(1 + 1e-5), 1 / Math.Sqrt(1 + 1e-5)], (a, b) => Math.Abs(a - b) < 1e-12);
        neck.BatchNorm.bias!.requires_grad.Should().BeFalse();
        neck.BatchNorm.weight!.requires_grad.Should().BeTrue();
        (after * tensor(new double[] { 1, 2 }, [2, 1])).sum().backward();
        neck.BatchNorm.bias!.grad.Should().BeNull();
        neck.BatchNorm.weight!.grad.Should().NotBeNull();
        neck.state_dict().Keys.Should().Contain(["bottleneck.weight", "bottleneck.bias", "bottleneck.running_mean"]);
    }

    [Fact]
    public void PcaWhitening_WhitenedCovarianceIsIdentity_OnTheFittingSet()
    {
        using var scope = NewDisposeScope();
        Tensor mixing = randn([4, 4], ScalarType.Float64, generator: new Generator(41));
        Tensor data = randn([500, 4], ScalarType.Float64, generator: new Generator(42)).matmul(mixing) + 5;
        var whitening = new PcaWhitening(4, epsilon: 1e-9).to(ScalarType.Float64);
        whitening.Fit(data);
        Tensor whitened = whitening.Whiten(data);
        Tensor centred = whitened - whitened.mean([0]);
        Tensor covariance = centred.t().matmul(centred) / 499;
        covariance.allclose(eye(4, dtype: ScalarType.Float64), atol: 1e-6).Should().BeTrue();
        whitened.mean([0]).abs().max().item<double>().Should().BeLessThan(1e-9);
        whitening.call(data).norm(dim: 1).allclose(ones(500, dtype: ScalarType.Float64)).Should().BeTrue();
    }

    [Fact]
    public void PcaWhitening_WithOutputDimension_KeepsTheLargestVarianceDirections()
    {
        using var scope = NewDisposeScope();
        // Independent axes with standard deviations 1, 3 and 0.5: the first principal direction is axis 1, then axis 0,
        // each scaled by 1/σ.
        Tensor data = randn([4000, 3], ScalarType.Float64, generator: new Generator(43)) * tensor(new double[] { 1, 3, 0.5 });
        var whitening = new PcaWhitening(3, outputDimension: 2).to(ScalarType.Float64);
        whitening.Fit(data);
        Tensor projection = whitening.Projection.abs();
        projection.shape.Should().Equal(2, 3);
        projection[0, 1].item<double>().Should().BeApproximately(1 / 3.0, 0.02);
        projection[1, 0].item<double>().Should().BeApproximately(1.0, 0.06);
        projection[0, 2].item<double>().Should().BeLessThan(0.02);
        projection[1, 2].item<double>().Should().BeLessThan(0.06);
    }

    [Fact]
    public void PcaWhitening_RejectsUseBeforeFit_AndSurvivesAStateDictRoundTrip()
    {
        using var scope = NewDisposeScope();
        var whitening = new PcaWhitening(3);
        whitening.IsFitted.Should().BeFalse();
        var act = () => whitening.call(ones(2, 3));
        act.Should().Throw<InvalidOperationException>().WithMessage("*not been fitted*");
        var tooFew = () => whitening.Fit(ones(1, 3));
        tooFew.Should().Throw<ArgumentException>().WithMessage("*at least 2*");

        whitening.Fit(randn([50, 3], generator: new Generator(44)));
        var restored = new PcaWhitening(3);
        restored.load_state_dict(whitening.state_dict());
        restored.IsFitted.Should().BeTrue();
        Tensor query = randn([4, 3], generator: new Generator(45));
        restored.call(query).allclose(whitening.call(query)).Should().BeTrue();
    }

    [Fact]
    public void Heads_BuiltInsideADisposeScope_StillWorkAfterIt()
    {
        PcaWhitening whitening;
        BNNeck neck;
        LinearProjection projection;
        using (NewDisposeScope())
        {
            whitening = new PcaWhitening(2);
            whitening.Fit(tensor(new float[] { 0, 0, 1, 2, 2, 1 }, [3, 2]));
            neck = new BNNeck(2);
            projection = new LinearProjection(2, 3);
        }
        using var scope = NewDisposeScope();
        whitening.call(ones(1, 2)).shape.Should().Equal(1, 2);
        neck.eval();
        neck.call(ones(1, 2)).shape.Should().Equal(1, 2);
        projection.call(ones(1, 2)).shape.Should().Equal(1, 3);
    }
}
