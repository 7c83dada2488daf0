using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Fixture = DeepRetrieval.Torch.Tests.Backbones.TransformerFixtureTensors;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class VisionTransformerTests
{
    private static VisionTransformer TinyFixtureModel()
    {
        var vit = new VisionTransformer(embedDim: 16, depth: 2, numHeads: 2, patchSize: 4, imageSize: 16);
        vit.load_state_dict(Fixture.StateDict("vit.state."), strict: true);
        vit.eval();
        return vit;
    }

    [Fact]
    public void VitTiny_At64_GivesA192By4By4PatchMap_AndA192ClassToken()
    {
        using var scope = NewDisposeScope();
        var vit = (VisionTransformer)BackboneRegistry_Create("vit_tiny_patch16_224");
        vit.eval();
        var images = randn(2, 3, 64, 64);
        vit.forward(images).shape.Should().Equal(2, 192, 4, 4);
        vit.ForwardClassToken(images).shape.Should().Equal(2, 192);
        vit.ForwardTokens(images).shape.Should().Equal(2, 17, 192);
        vit.OutputChannels.Should().Be(192);
        vit.OutputStride.Should().Be(16);
    }

    [Fact]
    public void Forward_MatchesTheTimmReference_AtTheNativeSize()
    {
        using var scope = NewDisposeScope();
        var vit = TinyFixtureModel();
        var images = Fixture.Get("vit.input.native");
        var expected = Fixture.Get("vit.tokens.native");
        vit.ForwardTokens(images).allclose(expected, rtol: 1e-4, atol: 1e-4).Should().BeTrue();
        vit.ForwardClassToken(images).allclose(expected[.., 0], rtol: 1e-4, atol: 1e-4).Should().BeTrue();
        var map = vit.forward(images);
        map.shape.Should().Equal(2, 16, 4, 4);
        // Token 1 + 4r + c is patch (r, c).
        map[.., .., 2, 3].allclose(expected[.., 1 + 4 * 2 + 3], rtol: 1e-4, atol: 1e-4).Should().BeTrue();
    }

    [Theory]
    [InlineData("wide")]
    [InlineData("small")]
    public void Forward_MatchesTheTimmReference_AtOtherSizes_ByResamplingThePositionEmbedding(string size)
    {
        using var scope = NewDisposeScope();
        var vit = TinyFixtureModel();
        var tokens = vit.ForwardTokens(Fixture.Get($"vit.input.{size}"));
        tokens.allclose(Fixture.Get($"vit.tokens.{size}"), rtol: 1e-4, atol: 1e-4).Should().BeTrue();
    }

    [Fact]
    public void ResamplePositionEmbedding_IsTheIdentityAtTheNativeGrid_AndBicubicAntialiasedElsewhere()
    {
        using var scope = NewDisposeScope();
        var vit = TinyFixtureModel();
        vit.ResamplePositionEmbedding(4, 4).allclose(vit.PositionEmbedding, 0, 0).Should().BeTrue();
        var resized = vit.ResamplePositionEmbedding(6, 5);
        resized.shape.Should().Equal(1, 31, 16);
        resized.allclose(Fixture.Get("vit.pos_embed.6x5"), rtol: 1e-5, atol: 1e-5).Should().BeTrue();
        resized[.., 0].allclose(vit.PositionEmbedding[.., 0], 0, 0).Should().BeTrue("the class-token entry is not resampled");
    }

    [Fact]
    public void Attention_EqualsSoftmaxOfScaledQueryKeyProductTimesValues_OnAHandCase()
    {
        using var scope = NewDisposeScope();
        var attention = new MultiHeadSelfAttention(2, 1);
        var qkv = attention.named_modules().Select(m => m.module).OfType<Linear>().ToArray();
        using (no_grad())
        {
            // q = x, k = 2x, v = (x0 + x1, x0 - x1); output projection the identity, all biases zero.
            qkv[0].weight!.copy_(tensor(new float[] { 1, 0, 0, 1, 2, 0, 0, 2, 1, 1, 1, -1 }, [6, 2]));
            qkv[0].bias!.zero_();
            qkv[1].weight!.copy_(eye(2));
            qkv[1].bias!.zero_();
        }
        float[][] x = [[1, 0], [0, 1], [1, 1]];
        var output = attention.forward(tensor(x.SelectMany(r => r).ToArray(), [1, 3, 2])).data<float>().ToArray();

        for (int i = 0; i < 3; i++)
        {
            var logits = x.Select(xj => 2.0 * (x[i][0] * xj[0] + x[i][1] * xj[1]) / Math.Sqrt(2)).ToArray();
            var weights = logits.Select(l => Math.Exp(l - logits.Max())).ToArray();
            double total = weights.Sum();
            double v0 = 0, v1 = 0;
            for (int j = 0; j < 3; j++)
            {
                v0 += weights[j] / total * (x[j][0] + x[j][1]);
                v1 += weights[j] / total * (x[j][0] - x[j][1]);
            }
            output[2 * i].Should().BeApproximately((float)v0, 1e-5f);
            output[2 * i + 1].Should().BeApproximately((float)v1, 1e-5f);
        }
    }

    [Fact]
    public void ParameterNames_AreTimms_AndTheCountIsVitTinysWithoutTheHead()
    {
        var vit = new VisionTransformer();
        var names = vit.state_dict().Keys.ToList();
        names.Should().Contain(["cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
            "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias", "blocks.0.attn.proj.weight",
            "blocks.11.norm2.bias", "blocks.11.mlp.fc1.weight", "blocks.11.mlp.fc2.bias", "norm.weight", "norm.bias"]);
        names.Should().HaveCount(4 + 12 * 12 + 2);
        // timm's vit_tiny_patch16_224 has 5,717,416 parameters, 193,000 of them in the 1000-class head.
        vit.parameters().Sum(p => p.numel()).Should().Be(5_717_416 - 193_000);
        vit.PositionEmbedding.shape.Should().Equal(1, 197, 192);
        vit.modules().OfType<LayerNorm>().Should().HaveCount(25);
    }

    [Fact]
    public void Registrations_DescribeTheBuiltNetworks()
    {
        var registrations = VisionTransformer.Registrations().ToList();
        registrations.Select(r => r.Item1.Name).Should().Equal("vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224");
        registrations.Select(r => r.Item1.OutputChannels).Should().Equal(192, 384, 768);
        registrations.Should().OnlyContain(r => r.Item1.OutputStride == 16 && r.Item1.InputSize == 224 && r.Item1.Mean.All(m => m == 0.5f) && r.Item1.Std.All(s => s == 0.5f));
        var small = (VisionTransformer)registrations[1].Item2(new BackboneOptions());
        (small.EmbedDim, small.Depth, small.NumHeads).Should().Be((384, 12, 6));
    }

    [Fact]
    public void ForwardStages_ReturnsFourPatchMaps_AndTheLastEqualsForward()
    {
        using var scope = NewDisposeScope();
        var vit = new VisionTransformer(embedDim: 32, depth: 8, numHeads: 2, imageSize: 64);
        vit.eval();
        vit.Stages.Select(s => s.Name).Should().Equal("blocks.1", "blocks.3", "blocks.5", "blocks.7");
        vit.Stages.Should().OnlyContain(s => s.Channels == 32 && s.Stride == 16);
        var images = randn(2, 3, 48, 32);
        var maps = vit.ForwardStages(images, "blocks.7", "blocks.1");
        maps.Select(m => m.shape).Should().AllSatisfy(s => s.Should().Equal(2, 32, 3, 2));
        maps[0].allclose(vit.forward(images)).Should().BeTrue();
        maps[1].allclose(maps[0]).Should().BeFalse();
    }

    [Fact]
    public void FreezeStages_FreezesTheEmbeddingWithTheFirstBlocks()
    {
        using var scope = NewDisposeScope();
        var vit = new VisionTransformer(embedDim: 16, depth: 4, numHeads: 2, imageSize: 32);
        vit.FreezeStages("blocks.0");
        vit.ForwardClassToken(randn(2, 3, 32, 32)).sum().backward();
        foreach (var (name, p) in vit.named_parameters())
        {
            bool frozen = name is "cls_token" or "pos_embed" || name.StartsWith("patch_embed.", StringComparison.Ordinal) || name.StartsWith("blocks.0.", StringComparison.Ordinal);
            p.requires_grad.Should().Be(!frozen, name);
            (p.grad is null).Should().Be(frozen, name);
        }
        vit.Unfreeze();
        vit.parameters().Should().OnlyContain(p => p.requires_grad);
    }

    [Fact]
    public void BadImages_AreRejected_NamingTheProblem()
    {
        var vit = new VisionTransformer(embedDim: 16, depth: 1, numHeads: 2, imageSize: 32);
        vit.Invoking(v => v.forward(randn(1, 1, 32, 32))).Should().Throw<ArgumentException>().WithMessage("*3-channel*1 channels*");
        vit.Invoking(v => v.forward(randn(1, 3, 40, 32))).Should().Throw<ArgumentException>().WithMessage("*multiples of the patch size 16*40*");
        vit.Invoking(v => v.ForwardClassToken(randn(3, 32, 32))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new VisionTransformer(embedDim: 10, numHeads: 3)).Should().Throw<ArgumentException>().WithMessage("*10*3*");
        FluentActions.Invoking(() => new VisionTransformer(imageSize: 100)).Should().Throw<ArgumentException>().WithMessage("*100*16*");
    }

    [Fact]
    public void DropPath_IsTheIdentityInEvaluation_AndDropsWholeSamplesScaledInTraining()
    {
        using var scope = NewDisposeScope();
        var drop = new DropPath(0.5);
        var x = ones(400, 3);
        drop.eval();
        drop.forward(x).allclose(x, 0, 0).Should().BeTrue();
        drop.train();
        var y = drop.forward(x);
        var perSample = y[.., 0];
        y.eq(perSample.unsqueeze(1)).all().item<bool>().Should().BeTrue("a sample is kept or dropped as a whole");
        (perSample.eq(0) | perSample.eq(2)).all().item<bool>().Should().BeTrue("kept samples are scaled by 1 / (1 - rate)");
        perSample.eq(0).sum().item<long>().Should().BeInRange(140, 260);
        FluentActions.Invoking(() => new DropPath(1.0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void DropPathRate_MakesTrainingStochastic_WhileEvaluationStaysDeterministic()
    {
        using var scope = NewDisposeScope();
        var vit = new VisionTransformer(embedDim: 16, depth: 4, numHeads: 2, imageSize: 32, dropPathRate: 0.9);
        vit.modules().OfType<DropPath>().Select(d => d.Rate).Should().BeEquivalentTo(new[] { 0, 0, 0.3, 0.3, 0.6, 0.6, 0.9, 0.9 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
        var images = randn(8, 3, 32, 32);
        vit.eval();
        vit.forward(images).allclose(vit.forward(images), 0, 0).Should().BeTrue();
        vit.train();
        manual_seed(3);
        var first = vit.forward(images);
        vit.forward(images).allclose(first, 0, 0).Should().BeFalse();
    }

    [Fact]
    public void ANetworkBuiltInsideADisposeScope_StillRunsAfterIt_AndInFloat64()
    {
        VisionTransformer vit;
        using (NewDisposeScope())
            vit = new VisionTransformer(embedDim: 16, depth: 2, numHeads: 2, imageSize: 32);
        vit.eval();
        using var scope = NewDisposeScope();
        var images = randn(1, 3, 48, 32);
        var single = vit.ForwardClassToken(images);
        vit.to(ScalarType.Float64);
        var twice = vit.ForwardClassToken(images.to(ScalarType.Float64));
        twice.dtype.Should().Be(ScalarType.Float64);
        twice.to(ScalarType.Float32).allclose(single, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
    }

    private static Backbone BackboneRegistry_Create(string name)
    {
        var (_, factory) = VisionTransformer.Registrations().Single(r => r.Item1.Name == name);
        manual_seed(1);
        return factory(new BackboneOptions());
    }
}
