using DeepRetrieval.Torch.Heads;
using DeepRetrieval.Torch.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Heads;

public sealed class HeadRegistryTests
{
    [Fact]
    public void BuiltInHeads_HaveTheirLayers()
    {
        using var scope = NewDisposeScope();
        HeadRegistry.Names.Should().Contain(["bnneck", "linear", "linear_bn", "none", "pca_whitening"]);
        HeadRegistry.Create("none", 8, 8).Should().BeOfType<TorchSharp.Modules.Identity>();
        HeadRegistry.Create("linear", 8, 4).Should().Match<EmbeddingHead>(h => h.Neck == HeadNeck.None && h.Projection != null);
        HeadRegistry.Create("linear_bn", 8, 4).Should().Match<EmbeddingHead>(h => h.Neck == HeadNeck.BatchNorm);
        HeadRegistry.Create("bnneck", 8, 4).Should().Match<EmbeddingHead>(h => h.Neck == HeadNeck.BNNeck && h.Projection != null);
        HeadRegistry.Create("bnneck(project=false)", 8, 8).Should().Match<EmbeddingHead>(h => h.Neck == HeadNeck.BNNeck && h.Projection == null);
        HeadRegistry.Create("pca_whitening(eps=0.01)", 8, 3).Should().Match<PcaWhitening>(w => w.OutputDimension == 3 && w.Epsilon == 0.01);
        HeadRegistry.Resolve("bnneck").ToString().Should().Be("bnneck(project=true)");
    }

    [Fact]
    public void CheckWidths_RejectsWhatAHeadCannotMap()
    {
        FluentActions.Invoking(() => HeadRegistry.CheckWidths("none", 8, 4)).Should().Throw<ArgumentException>().WithMessage("*must be 8; got 4*");
        FluentActions.Invoking(() => HeadRegistry.CheckWidths("bnneck(project=false)", 8, 4)).Should().Throw<ArgumentException>().WithMessage("*must be 8*");
        FluentActions.Invoking(() => HeadRegistry.CheckWidths("pca_whitening", 8, 9)).Should().Throw<ArgumentException>().WithMessage("*at most*8*");
        FluentActions.Invoking(() => HeadRegistry.CheckWidths("mlp", 8, 4)).Should().Throw<ArgumentException>().WithMessage("*Unknown head 'mlp'*bnneck*");
        FluentActions.Invoking(() => HeadRegistry.CheckWidths("linear", 8, 4)).Should().NotThrow();
    }

    [Fact]
    public void EmbeddingHead_WithBNNeckWithoutProjection_IsLuoEtAlsNeckOnThePooledFeature()
    {
        using var scope = NewDisposeScope();
        var head = new EmbeddingHead(3, 3, project: false, HeadNeck.BNNeck);
        head.train();
        Tensor pooled = tensor(new float[,] { { 1, 2, 3 }, { 3, 6, 9 } });
        var (before, after) = head.ForwardBoth(pooled);
        before.Should().BeSameAs(pooled);
        // Batch norm in training mode, weight 1, bias 0: each column becomes (x − mean) / √(var + ε) with the biased variance.
        after.allclose(tensor(new float[,] { { -1, -1, -1 }, { 1, 1, 1 } }), 1e-4, 1e-4).Should().BeTrue();
        head.named_parameters().Select(p => p.name).Should().Equal("neck.bottleneck.weight", "neck.bottleneck.bias");
        head.named_parameters().Single(p => p.name == "neck.bottleneck.bias").parameter.requires_grad.Should().BeFalse("BNNeck freezes the shift");
    }

    [Fact]
    public void Register_AddsAHead_ThatAModelConfigNames()
    {
        using var scope = NewDisposeScope();
        HeadRegistry.Register(new HeadKind("test_scaled", [new("factor", "2.0")],
            (spec, pooled, embedding) =>
            {
                if (pooled != embedding) throw new ArgumentException("test_scaled keeps the width.");
            },
            (spec, pooled, embedding) => new Scaled(spec.GetDouble("factor"))));
        var model = new RetrievalModel(RetrievalModelConfig.For("small_cnn") with { Head = "test_scaled(factor=3.0)", Metric = Metric.L2 }, seed: 4);
        model.eval();
        var images = rand(2, 1, 28, 28);
        var pooled = model.Pool.forward(model.Backbone.forward((images - 0.2860f) / 0.3530f));
        model.forward(images).allclose(pooled * 3, 1e-6, 1e-6).Should().BeTrue();
        FluentActions.Invoking(() => new RetrievalModel(RetrievalModelConfig.For("small_cnn", 16) with { Head = "test_scaled" }))
            .Should().Throw<ArgumentException>().WithMessage("Head: test_scaled keeps the width.*");
    }

    private sealed class Scaled(double factor) : nn.Module<Tensor, Tensor>(nameof(Scaled))
    {
        public override Tensor forward(Tensor features) => features * factor;
    }
}
