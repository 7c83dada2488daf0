using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Pooling;
using DeepRetrieval.Torch.Tests.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Pooling;

public sealed class PoolingRegistryTests
{
    [Fact]
    public void Resolve_CompletesTheDefaults_InCanonicalOrder_AndTheTextRoundTrips()
    {
        var resolved = PoolingRegistry.Resolve(" GeM( eps = 1e-5 ) ");
        resolved.ToString().Should().Be("gem(p=3.0, learnable=true, eps=1e-5)");
        ComponentSpec.Parse(resolved.ToString()).ToString().Should().Be(resolved.ToString());
        PoolingRegistry.Resolve("mac").ToString().Should().Be("mac");
        PoolingRegistry.Names.Should().Equal("bilinear", "compact_bilinear", "gem", "mac", "rmac", "spoc");
    }

    [Theory]
    [InlineData("", "*component name*")]
    [InlineData("gem(p=2", "*not closed*")]
    [InlineData("gem(p)", "*'p'*not a key=value*")]
    [InlineData("gem(p=1, p=2)", "*'p' twice*")]
    [InlineData("gem(q=1)", "*'gem' has no parameter 'q'*p (default 3.0), learnable (default true), eps (default 1e-6)*")]
    [InlineData("gem(p=abc)", "*'p' must be a finite number*")]
    [InlineData("rmac(levels=2.5)", "*'levels' must be an integer*")]
    [InlineData("mac(x=1)", "*'mac' takes no arguments*")]
    [InlineData("gem((p=1))", "*nests parentheses*")]
    [InlineData("avg", "*Unknown pooling 'avg'*gem*")]
    public void Resolve_RejectsBadSpecifications_NamingTheProblem(string spec, string message) =>
        FluentActions.Invoking(() => PoolingRegistry.Resolve(spec)).Should().Throw<ArgumentException>().WithMessage(message);

    [Fact]
    public void OutputDimension_And_Create_FollowTheSpecification()
    {
        using var scope = NewDisposeScope();
        PoolingRegistry.OutputDimension("gem", 512).Should().Be(512);
        PoolingRegistry.OutputDimension("bilinear", 512).Should().Be(512 * 512);
        PoolingRegistry.OutputDimension("compact_bilinear(dim=100)", 512).Should().Be(100);

        var gem = (GeM)PoolingRegistry.Create("gem(p=4, learnable=false)", 8);
        gem.P.item<float>().Should().Be(4f);
        gem.parameters().Should().BeEmpty("a fixed exponent is a buffer");
        ((RMAC)PoolingRegistry.Create("rmac(levels=2, whole=false)", 8)).Should().Match<RMAC>(r => r.Levels == 2 && !r.IncludeWholeMap);
        var compact = (CompactBilinearPooling)PoolingRegistry.Create("compact_bilinear(dim=64, seed=5, normalize=false)", 8);
        compact.Should().Match<CompactBilinearPooling>(c => c.OutputDimension == 64 && c.Seed == 5 && !c.Normalize);
        PoolingRegistry.Create("bilinear", 3).forward(rand(2, 3, 4, 4)).shape.Should().Equal(2, 9);
    }

    [Fact]
    public void Register_AddsAPooling_ThatAModelConfigNamesAndASavedModelRebuilds()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        // MAC and SPoC side by side: 2C outputs, a weight between them.
        PoolingRegistry.Register(new PoolingKind("test_mac_spoc", [new("spoc_weight", "1.0")], (spec, c) => 2 * c,
            (spec, c) => new MacAndSpoc(spec.GetDouble("spoc_weight"))));
        PoolingRegistry.Resolve("test_mac_spoc").ToString().Should().Be("test_mac_spoc(spoc_weight=1.0)");
        var config = RetrievalModelConfig.For("small_cnn", 8) with { Pooling = "test_mac_spoc(spoc_weight=0.5)" };
        config.PooledDimension.Should().Be(256);
        var model = new RetrievalModel(config, seed: 3);
        model.eval();
        var images = rand(2, 1, 28, 28);
        var maps = model.Backbone.forward((images - 0.2860f) / 0.3530f);
        var pooled = model.Pool.forward(maps);
        pooled.allclose(cat([maps.amax([2, 3]), maps.mean([2, 3]) * 0.5], 1), 1e-6, 1e-7).Should().BeTrue();
        string path = dir.File("model.safetensors");
        model.Save(path);
        RetrievalModel.Load(path).forward(images).allclose(model.forward(images), 0, 0).Should().BeTrue();
        FluentActions.Invoking(() => PoolingRegistry.Register(new PoolingKind("bad name", [], (s, c) => c, (s, c) => new MAC()))).Should().Throw<ArgumentException>();
    }

    private sealed class MacAndSpoc(double spocWeight) : nn.Module<Tensor, Tensor>(nameof(MacAndSpoc))
    {
        public override Tensor forward(Tensor maps) => cat([maps.amax([2, 3]), maps.mean([2, 3]) * spocWeight], 1);
    }
}
