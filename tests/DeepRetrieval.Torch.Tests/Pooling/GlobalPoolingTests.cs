using DeepRetrieval.Torch.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Pooling;

public class GlobalPoolingTests
{
    // One image, two channels, 2 × 2: channel 0 = [[1, 2], [3, 4]], channel 1 = [[−1, 0], [5, −2]].
    private static Tensor Maps(ScalarType dtype = ScalarType.Float64) =>
        tensor(new double[] { 1, 2, 3, 4, -1, 0, 5, -2 }, [1, 2, 2, 2], dtype);

    private static double[] Values(Tensor t) => t.detach().to(ScalarType.Float64).data<double>().ToArray();

    [Fact]
    public void MacAndSpoc_MatchHandValues()
    {
        using var scope = NewDisposeScope();
        Values(new MAC().call(Maps())).Should().Equal(4, 5);
        Values(new SPoC().call(Maps())).Should().Equal(2.5, 0.5);
    }

    [Fact]
    public void GeM_MatchesHandValue_WithNegativesClampedToEpsilon()
    {
        using var scope = NewDisposeScope();
        double[] pooled = Values(new GeM(p: 2, learnable: false).to(ScalarType.Float64).call(Maps()));
        // Channel 0: √((1 + 4 + 9 + 16) / 4) = √7.5. Channel 1: −1, 0, −2 clamp to 1e−6, so √((25 + 3e−12) / 4) = 2.5.
        pooled[0].Should().BeApproximately(Math.Sqrt(7.5), 1e-12);
        pooled[1].Should().BeApproximately(2.5, 1e-12);
    }

    [Fact]
    public void GeM_WithPEqualToOne_IsSpoc_OnPositiveMaps()
    {
        using var scope = NewDisposeScope();
        Tensor maps = rand([3, 4, 5, 6], ScalarType.Float64, generator: new Generator(1)) + 0.1;
        Tensor gem = new GeM(p: 1, learnable: false).to(ScalarType.Float64).call(maps);
        gem.allclose(new SPoC().call(maps), rtol: 1e-12, atol: 1e-12).Should().BeTrue();
    }

    [Fact]
    public void GeM_ApproachesMac_AsPGrows()
    {
        using var scope = NewDisposeScope();
        Tensor maps = rand([2, 3, 4, 4], ScalarType.Float64, generator: new Generator(2)) + 0.1;
        Tensor mac = new MAC().call(maps);
        double previousGap = double.PositiveInfinity;
        foreach (double p in new[] { 3.0, 30.0, 300.0 })
        {
            Tensor gem = new GeM(p: p, learnable: false).to(ScalarType.Float64).call(maps);
            // Power means lie between max · (1/HW)^(1/p) and max, and rise towards max with p.
            (gem <= mac + 1e-12).all().item<bool>().Should().BeTrue();
            (gem >= mac * Math.Pow(1.0 / 16, 1 / p) - 1e-12).all().item<bool>().Should().BeTrue();
            double gap = (mac - gem).max().item<double>();
            gap.Should().BeLessThan(previousGap);
            previousGap = gap;
        }
        previousGap.Should().BeLessThan(0.01);
    }

    [Fact]
    public void GeM_PerChannelP_UsesEachChannelsExponent()
    {
        using var scope = NewDisposeScope();
        var gem = new GeM(p: 1, learnable: false, channels: 2).to(ScalarType.Float64);
        using (no_grad()) gem.P.copy_(tensor(new double[] { 1, 2 }));
        Tensor maps = tensor(new double[] { 1, 2, 3, 4, 1, 2, 3, 4 }, [1, 2, 2, 2]);
        double[] pooled = Values(gem.call(maps));
        pooled[0].Should().BeApproximately(2.5, 1e-12);
        pooled[1].Should().BeApproximately(Math.Sqrt(7.5), 1e-12);
        var act = () => gem.call(zeros([1, 3, 2, 2], ScalarType.Float64));
        act.Should().Throw<ArgumentException>().WithMessage("*one p per channel for 2 channels*3*");
    }

    [Fact]
    public void GeM_GradientWithRespectToMaps_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        Tensor maps = rand([2, 2, 2, 3], ScalarType.Float64, generator: new Generator(3)) + 0.2;
        Tensor weights = randn([2, 2], ScalarType.Float64, generator: new Generator(4));
        Tensor p = tensor(new double[] { 3.0 });
        GradientCheck.AssertMatches(x => (GeM.Pool(x, p) * weights).sum(), maps);
    }

    [Fact]
    public void GeM_GradientWithRespectToP_MatchesFiniteDifferences_SharedAndPerChannel()
    {
        using var scope = NewDisposeScope();
        Tensor maps = rand([2, 3, 3, 2], ScalarType.Float64, generator: new Generator(5)) + 0.2;
        Tensor weights = randn([2, 3], ScalarType.Float64, generator: new Generator(6));
        GradientCheck.AssertMatches(p => (GeM.Pool(maps, p) * weights).sum(), tensor(new double[] { 2.5 }));
        GradientCheck.AssertMatches(p => (GeM.Pool(maps, p) * weights).sum(), tensor(new double[] { 1.5, 3, 4.5 }));
    }

    [Fact]
    public void GeM_LearnableP_IsAParameterThatReceivesTheGradient_FixedPIsABuffer()
    {
        using var scope = NewDisposeScope();
        var learnable = new GeM(p: 3).to(ScalarType.Float64);
        learnable.parameters().Should().ContainSingle();
        learnable.named_parameters().Single().name.Should().Be("p");
        Tensor maps = rand([2, 3, 2, 2], ScalarType.Float64, generator: new Generator(7)) + 0.2;
        learnable.call(maps).sum().backward();
        Tensor expected = tensor(new double[] { 3.0 }).requires_grad_(true);
        GeM.Pool(maps, expected).sum().backward();
        learnable.P.grad!.item<double>().Should().BeApproximately(expected.grad!.item<double>(), 1e-12);

        var fixedP = new GeM(p: 3, learnable: false);
        fixedP.parameters().Should().BeEmpty();
        fixedP.named_buffers().Single().name.Should().Be("p");
    }

    [Fact]
    public void Layers_BuiltInsideADisposeScope_StillWorkAfterIt()
    {
        GeM gem;
        using (NewDisposeScope()) gem = new GeM(p: 2, channels: 3);
        using var scope = NewDisposeScope();
        gem.call(ones([1, 3, 2, 2])).shape.Should().Equal(1, 3);
        gem.P.min().item<float>().Should().Be(2);
    }

    [Fact]
    public void Pooling_RejectsInputThatIsNotAFloatingPointFeatureMap()
    {
        using var scope = NewDisposeScope();
        foreach (nn.Module<Tensor, Tensor> layer in new nn.Module<Tensor, Tensor>[] { new MAC(), new SPoC(), new GeM(), new RMAC(), new BilinearPooling() })
        {
            var threeD = () => layer.call(zeros(2, 3, 4));
            threeD.Should().Throw<ArgumentException>().WithMessage("*4-D*");
            var integral = () => layer.call(zeros([1, 2, 2, 2], ScalarType.Int64));
            integral.Should().Throw<ArgumentException>().WithMessage("*floating point*");
        }
        var badP = () => new GeM(p: 0);
        badP.Should().Throw<ArgumentOutOfRangeException>();
    }
}
