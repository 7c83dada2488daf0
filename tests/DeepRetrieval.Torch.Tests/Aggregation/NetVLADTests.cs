using DeepRetrieval.Aggregation;
using DeepRetrieval.Torch.Aggregation;
using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Aggregation;

public class NetVLADTests
{
    private static double[] Values(Tensor t) => t.detach().to(ScalarType.Float64).data<double>().ToArray();

    [Fact]
    public void Forward_GivesUnitLengthClusterMajorDescriptors()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var layer = new NetVLAD(clusters: 4, dimension: 6);
        Tensor pooled = layer.call(randn(2, 6, 3, 5));
        pooled.shape.Should().Equal(2, 24);
        Tensor norms = pooled.norm(1);
        Values(norms).Should().OnlyContain(n => Math.Abs(n - 1) < 1e-5);
    }

    [Fact]
    public void Pool_ByHand_WithOneLocationAndEqualLogits()
    {
        // One 2-D descriptor x = (3, 4) (normalised to (0.6, 0.8)), two clusters with zero weights and biases, so each gets
        // assignment ½. Residuals ½(x − c₀) and ½(x − c₁) with c₀ = (0, 0), c₁ = (1, 0): (0.3, 0.4) and (−0.2, 0.4),
        // each intra-normalised to (0.6, 0.8) and (−0.4472, 0.8944), then the whole divided by √2.
        using var scope = NewDisposeScope();
        Tensor maps = tensor(new double[] { 3, 4 }, [1, 2, 1, 1]);
        Tensor pooled = NetVLAD.Pool(maps, zeros(2, 2, ScalarType.Float64), zeros(2, ScalarType.Float64), tensor(new double[] { 0, 0, 1, 0 }, [2, 2]));
        double s = Math.Sqrt(2), r = Math.Sqrt(0.2);
        double[] expected = [0.6 / s, 0.8 / s, -0.2 / r / s, 0.4 / r / s];
        double[] values = Values(pooled);
        for (int i = 0; i < 4; i++) values[i].Should().BeApproximately(expected[i], 1e-12);
    }

    [Fact]
    public void Gradients_MatchFiniteDifferences_ForMapsAndAllParameters()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        Tensor maps = randn([2, 3, 2, 3], ScalarType.Float64, generator: generator);
        Tensor weight = randn([4, 3], ScalarType.Float64, generator: generator);
        Tensor bias = randn([4], ScalarType.Float64, generator: generator);
        Tensor centres = randn([4, 3], ScalarType.Float64, generator: generator) * 0.5;
        // A fixed random projection of the output makes a scalar whose gradient involves every output component.
        Tensor probe = randn([2, 12], ScalarType.Float64, generator: generator);
        GradientCheck.AssertMatches(m => (NetVLAD.Pool(m, weight, bias, centres) * probe).sum(), maps);
        GradientCheck.AssertMatches(w => (NetVLAD.Pool(maps, w, bias, centres) * probe).sum(), weight);
        GradientCheck.AssertMatches(b => (NetVLAD.Pool(maps, weight, b, centres) * probe).sum(), bias);
        GradientCheck.AssertMatches(c => (NetVLAD.Pool(maps, weight, bias, c) * probe).sum(), centres);
        GradientCheck.AssertMatches(m => (NetVLAD.Pool(m, weight, bias, centres, normalizeInput: false) * probe).sum(), maps);
    }

    [Fact]
    public void InitializedFromCentres_WithALargeAlpha_EqualsCoreVladWithIntraNormalisation()
    {
        // The paper's initialisation makes the soft assignment the hard nearest-centre one for unit-length descriptors, so
        // NetVLAD then computes VLAD with intra-normalisation and L2 (no power normalisation).
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        Tensor maps = randn([1, 8, 4, 4], ScalarType.Float32, generator: generator);
        Tensor unit = nn.functional.normalize(maps, p: 2, dim: 1);
        float[] descriptors = unit.reshape(8, 16).t().contiguous().data<float>().ToArray();
        float[] centres = nn.functional.normalize(randn([5, 8], ScalarType.Float32, generator: generator), p: 2, dim: 1).data<float>().ToArray();
        var layer = new NetVLAD(5, 8);
        layer.InitializeFromCentroids(centres, alpha: 1000);
        float[] pooled = layer.call(maps).data<float>().ToArray();
        var encoder = new VladEncoder(new VisualVocabulary(centres, 8), new VladOptions { Power = 1, IntraNormalization = true });
        float[] vlad = encoder.Encode(descriptors);
        for (int i = 0; i < vlad.Length; i++) pooled[i].Should().BeApproximately(vlad[i], 1e-4f);
    }

    [Fact]
    public void Parameters_HaveThePyTorchPortsNames()
    {
        var layer = new NetVLAD(3, 5);
        layer.named_parameters().Select(p => p.name).Should().BeEquivalentTo("conv.weight", "conv.bias", "centroids");
        layer.AssignmentWeight.shape.Should().Equal(3, 5, 1, 1);
    }

    [Fact]
    public void TrainsInsideAModel_WithoutLeakingGradientsToOtherStages()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var backbone = new SmallCnn();
        var layer = new NetVLAD(4, 128);
        Tensor images = randn(2, 1, 28, 28);
        Tensor pooled = layer.call(backbone.call(images));
        pooled.sum().backward();
        layer.Centroids.grad.Should().NotBeNull();
        layer.AssignmentWeight.grad!.abs().sum().item<float>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void BadInput_IsRejected()
    {
        var layer = new NetVLAD(2, 3);
        FluentActions.Invoking(() => layer.call(zeros(1, 4, 2, 2))).Should().Throw<ArgumentException>().WithMessage("*3-channel*4*");
        FluentActions.Invoking(() => layer.InitializeFromCentroids(new float[5], 1)).Should().Throw<ArgumentException>().WithMessage("*2 × 3*");
        FluentActions.Invoking(() => layer.InitializeFromCentroids(new float[6], 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new NetVLAD(0, 3)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
