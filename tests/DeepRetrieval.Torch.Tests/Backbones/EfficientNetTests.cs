using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class EfficientNetTests(EfficientNetFixture nets) : IClassFixture<EfficientNetFixture>
{
    [Fact]
    public void Forward_GivesB0A1280By2By2Map_For64By64Images()
    {
        using var scope = NewDisposeScope();
        var map = nets.B0.forward(randn(1, 3, 64, 64));
        map.shape.Should().Equal(1, 1280, 2, 2);
        nets.B0.OutputChannels.Should().Be(1280);
        nets.B0.OutputStride.Should().Be(32);
    }

    [Fact]
    public void Stages_AreTimmFeatureInfo_AndAgreeWithForwardStagesShapes_ForB0ToB3()
    {
        // timm feature_info (bottleneck) channels, except the last stage which here ends after conv_head.
        int[][] expectedChannels = [[16, 24, 40, 112, 1280], [16, 24, 40, 112, 1280], [16, 24, 48, 120, 1408], [24, 32, 48, 136, 1536]];
        using var scope = NewDisposeScope();
        var images = randn(1, 3, 64, 64);
        for (int v = 0; v < 4; v++)
        {
            var net = nets.All[v];
            net.Stages.Select(s => s.Name).Should().Equal("blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6");
            net.Stages.Select(s => s.Stride).Should().Equal(2, 4, 8, 16, 32);
            net.Stages.Select(s => s.Channels).Should().Equal(expectedChannels[v], $"B{v}");
            var maps = net.ForwardStages(images, net.Stages.Select(s => s.Name).ToArray());
            for (int s = 0; s < maps.Count; s++)
                maps[s].shape.Should().Equal(1, net.Stages[s].Channels, 64 / net.Stages[s].Stride, 64 / net.Stages[s].Stride);
        }
    }

    [Fact]
    public void ParameterCounts_MatchTimmWithoutTheClassifier_ForB0ToB3()
    {
        // timm totals 5,288,548 / 7,794,184 / 9,109,994 / 12,233,232 minus the classifier (head channels × 1000 + 1000).
        long[] expected = [4_007_548, 6_513_184, 7_700_994, 10_696_232];
        nets.All.Select(n => n.parameters().Sum(p => p.numel())).Should().Equal(expected);
    }

    [Fact]
    public void StateDictKeys_AreTimms_WithTimmShapes()
    {
        var shapes = nets.B0.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = new Dictionary<string, long[]>
        {
            ["conv_stem.weight"] = [32, 3, 3, 3],
            ["bn1.running_var"] = [32],
            ["blocks.0.0.conv_dw.weight"] = [32, 1, 3, 3],
            ["blocks.0.0.se.conv_reduce.weight"] = [8, 32, 1, 1],
            ["blocks.0.0.se.conv_reduce.bias"] = [8],
            ["blocks.0.0.se.conv_expand.weight"] = [32, 8, 1, 1],
            ["blocks.0.0.conv_pw.weight"] = [16, 32, 1, 1],
            ["blocks.0.0.bn2.weight"] = [16],
            ["blocks.1.0.conv_pw.weight"] = [96, 16, 1, 1],
            ["blocks.1.0.se.conv_reduce.weight"] = [4, 96, 1, 1],
            ["blocks.2.0.conv_dw.weight"] = [144, 1, 5, 5],
            ["blocks.5.3.conv_pwl.weight"] = [192, 1152, 1, 1],
            ["blocks.6.0.bn3.running_mean"] = [320],
            ["conv_head.weight"] = [1280, 320, 1, 1],
            ["bn2.bias"] = [1280],
        };
        foreach (var (key, shape) in expected)
            shapes.Should().ContainKey(key).WhoseValue.Should().Equal(shape, key);
        shapes.Keys.Should().NotContain(k => k.StartsWith("classifier", StringComparison.Ordinal) || k.Contains("act", StringComparison.Ordinal));
        // 16 blocks: 1 DS (SE 4 + 2 convs + 2 BNs × 5) = 16 entries, 15 MBConv (SE 4 + 3 convs + 3 BNs × 5) = 22 entries each,
        // plus stem and head (conv + 5 BN entries each).
        shapes.Should().HaveCount(16 + 15 * 22 + 2 * 6);
    }

    [Fact]
    public void SqueezeExcitation_EfficientNetLayout_GatesChannelsWithSigmoidOfTheSiluBottleneck_HandValues()
    {
        using var scope = NewDisposeScope();
        var se = SqueezeExcitation.ForEfficientNet(2, 1);
        var p = se.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using (no_grad())
        {
            p["conv_reduce.weight"].copy_(tensor(new float[] { 0.5f, 1f }).reshape(1, 2, 1, 1));
            p["conv_reduce.bias"].copy_(tensor(new float[] { 0f }));
            p["conv_expand.weight"].copy_(tensor(new float[] { 1f, -2f }).reshape(2, 1, 1, 1));
            p["conv_expand.bias"].copy_(tensor(new float[] { 0f, 0.5f }));
        }
        // Channel means 2 and 0; squeeze 0.5·2 + 1·0 = 1; silu(1) = 0.7310586; gates σ(0.7310586) = 0.6750375 and
        // σ(−2·0.7310586 + 0.5) = 0.2764545 multiply channel 0 (1, 3) and channel 1 (2, −2).
        var x = tensor(new float[] { 1, 3, 2, -2 }).reshape(1, 2, 1, 2);
        var y = se.forward(x).data<float>().ToArray();
        y.Should().Equal([0.6750375f, 2.0251126f, 0.5529090f, -0.5529090f], (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Theory]
    // Worked by hand: make_divisible(c·m) = max(8, ⌊(c·m + 4) / 8⌋·8), plus 8 if that lost more than 10 %.
    // 16·1.2 = 19.2 → 16 < 17.28 → 24; 32·1.1 = 35.2 → 32 (≥ 31.68); 112·1.1 = 123.2 → 120; 192·1.2 = 230.4 → 232.
    [InlineData(32, 1.0, 32)]
    [InlineData(32, 1.1, 32)]
    [InlineData(32, 1.2, 40)]
    [InlineData(16, 1.1, 16)]
    [InlineData(16, 1.2, 24)]
    [InlineData(24, 1.2, 32)]
    [InlineData(40, 1.1, 48)]
    [InlineData(80, 1.1, 88)]
    [InlineData(80, 1.2, 96)]
    [InlineData(112, 1.1, 120)]
    [InlineData(112, 1.2, 136)]
    [InlineData(192, 1.1, 208)]
    [InlineData(192, 1.2, 232)]
    [InlineData(320, 1.1, 352)]
    [InlineData(320, 1.2, 384)]
    [InlineData(1280, 1.1, 1408)]
    [InlineData(1280, 1.2, 1536)]
    [InlineData(4, 1.0, 8)]
    public void RoundChannels_MatchesTimmsRoundChannels(int channels, double multiplier, int expected) =>
        EfficientNet.RoundChannels(channels, multiplier).Should().Be(expected);

    [Theory]
    [InlineData(1, 1.1, 2)]
    [InlineData(2, 1.1, 3)]
    [InlineData(3, 1.1, 4)]
    [InlineData(4, 1.1, 5)]
    [InlineData(1, 1.2, 2)]
    [InlineData(4, 1.2, 5)]
    [InlineData(2, 1.4, 3)]
    [InlineData(3, 1.4, 5)]
    [InlineData(4, 1.4, 6)]
    [InlineData(3, 1.0, 3)]
    public void RoundRepeats_IsTheCeilingOfTheScaledDepth(int repeats, double multiplier, int expected) =>
        EfficientNet.RoundRepeats(repeats, multiplier).Should().Be(expected);

    [Fact]
    public void StageDepthsAndStem_FollowTheMultipliers_ForB0ToB3()
    {
        nets.B0.StageDepths.Should().Equal(1, 2, 2, 3, 3, 4, 1);
        nets.B1.StageDepths.Should().Equal(2, 3, 3, 4, 4, 5, 2);
        nets.B2.StageDepths.Should().Equal(2, 3, 3, 4, 4, 5, 2);
        nets.B3.StageDepths.Should().Equal(2, 3, 3, 5, 5, 6, 2);
        nets.All.Select(n => n.StemChannels).Should().Equal(32, 32, 32, 40);
        nets.B3.state_dict().Keys.Should().Contain("blocks.0.1.conv_dw.weight").And.Contain("blocks.5.5.conv_pwl.weight").And.NotContain("blocks.5.6.conv_pwl.weight");
    }

    [Fact]
    public void DropPath_GrowsLinearlyOverBlocks_AndIsTheIdentityInEvalMode()
    {
        using var scope = NewDisposeScope();
        var plain = EfficientNet.B0(new BackboneOptions { Seed = 7 });
        var dropping = EfficientNet.B0(new BackboneOptions { Seed = 7, DropPathRate = 0.5 });
        dropping.modules().OfType<EfficientNetBlock>().Select(b => b.DropPathRate)
            .Should().Equal(Enumerable.Range(0, 16).Select(i => 0.5 * i / 16));

        var images = randn(4, 3, 32, 32);
        plain.eval();
        dropping.eval();
        dropping.forward(images).allclose(plain.forward(images), 0, 0).Should().BeTrue();

        plain.train();
        dropping.train();
        manual_seed(3);
        var trainPlain = plain.forward(images);
        manual_seed(3);
        dropping.forward(images).allclose(trainPlain, 1e-4, 1e-4).Should().BeFalse("some residual branches are dropped in training mode");
    }

    [Fact]
    public void DropPath_ZeroesWholeSamplesAndRescalesSurvivors_InTrainingMode()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var branch = ones(20_000, 2, 1, 1);
        var dropped = EfficientNetBlock.DropPath(branch, 0.25, training: true);
        var values = dropped.data<float>().ToArray();
        values.Should().OnlyContain(v => v == 0f || Math.Abs(v - 1 / 0.75f) < 1e-6f);
        // Both entries of a sample share its fate.
        dropped.select(1, 0).allclose(dropped.select(1, 1), 0, 0).Should().BeTrue();
        double zeroFraction = values.Count(v => v == 0f) / (double)values.Length;
        zeroFraction.Should().BeApproximately(0.25, 0.02);
        dropped.mean().item<float>().Should().BeApproximately(1f, 0.03f);
        ReferenceEquals(EfficientNetBlock.DropPath(branch, 0.25, training: false), branch).Should().BeTrue();
    }

    [Fact]
    public void FreezeStages_CoversEveryParameter_AndTheStemBelongsToTheFirstStage()
    {
        var net = new EfficientNet(0.25, 0.5);
        net.FreezeStages(net.Stages.Count);
        net.parameters().Should().OnlyContain(p => !p.requires_grad);
        net.FreezeStages("blocks.0");
        foreach (var (name, p) in net.named_parameters())
            p.requires_grad.Should().Be(!(name.StartsWith("conv_stem", StringComparison.Ordinal) || name.StartsWith("bn1", StringComparison.Ordinal) || name.StartsWith("blocks.0.", StringComparison.Ordinal)), name);
    }

    [Fact]
    public void Training_BackpropagatesToEveryParameter_AndFrozenBatchNormStaysInEvalMode()
    {
        using var scope = NewDisposeScope();
        var net = new EfficientNet(0.25, 0.5, dropPathRate: 0.2);
        net.train();
        net.forward(randn(2, 3, 32, 32)).square().mean().backward();
        foreach (var (name, p) in net.named_parameters())
            (p.grad is not null).Should().BeTrue(name);
        net.FreezeBatchNorm();
        net.train();
        var norms = net.modules().OfType<TorchSharp.Modules.BatchNorm2d>().ToList();
        net.StageDepths.Should().Equal(1, 1, 1, 2, 2, 2, 1);
        // Stem and head, one depthwise-separable block with two, nine MBConv blocks with three.
        norms.Should().HaveCount(2 + 2 + 3 * 9).And.OnlyContain(n => !n.training);
    }

    [Fact]
    public void Forward_RejectsTheWrongChannelCount_AndAcceptsGreyImagesWhenBuiltForThem()
    {
        using var scope = NewDisposeScope();
        nets.B0.Invoking(n => n.forward(randn(1, 1, 32, 32))).Should().Throw<ArgumentException>().WithMessage("*3-channel*1 channels*");
        nets.B0.Invoking(n => n.ForwardStages(randn(1, 4, 32, 32), "blocks.1")).Should().Throw<ArgumentException>().WithMessage("*3-channel*4 channels*");
        var grey = new EfficientNet(0.25, 0.5, inputChannels: 1);
        grey.eval();
        grey.forward(randn(2, 1, 32, 32)).shape.Should().Equal(2, grey.OutputChannels, 1, 1);
        FluentActions.Invoking(() => new EfficientNet(0, 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*widthMultiplier*");
        FluentActions.Invoking(() => new EfficientNet(1, 1, dropPathRate: 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*dropPathRate*");
    }

    [Fact]
    public void Registrations_DescribeTheBuiltNetworks()
    {
        var registrations = EfficientNet.Registrations().ToList();
        registrations.Select(r => r.Item1.Name).Should().Equal("efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3");
        registrations.Select(r => r.Item1.InputSize).Should().Equal(224, 240, 260, 300);
        registrations.Select(r => r.Item1.OutputChannels).Should().Equal(nets.All.Select(n => n.OutputChannels));
        registrations.Should().OnlyContain(r => r.Item1.OutputStride == 32 && r.Item1.Mean.SequenceEqual(BackboneInfo.ImageNetMean));
        var (info, factory) = registrations[0];
        BackboneRegistry.Register(info, factory);
        BackboneRegistry.Create("efficientnet_b0", new BackboneOptions { Seed = 1, InputChannels = 1 }).Should().BeOfType<EfficientNet>()
            .Which.InputChannels.Should().Be(1);
    }
}
