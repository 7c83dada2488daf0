using DeepRetrieval.Torch.Backbones;
using Xunit.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ResNet = DeepRetrieval.Torch.Backbones.ResNet;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class SEResNetAndResNeStTests(ITestOutputHelper output)
{
    [Fact]
    public void SEResNet50_HasTimmParameterCountNamesAndOutput()
    {
        using var scope = NewDisposeScope();
        var registration = ResNet.Registrations().Single(r => r.Item1.Name == "seresnet50");
        registration.Item1.OutputChannels.Should().Be(2048);
        registration.Item1.OutputStride.Should().Be(32);
        var net = (ResNet)registration.Item2(BackboneOptions.Default);
        // timm seresnet50: 28,088,024 parameters, of which fc holds 2048 × 1000 + 1000.
        net.parameters().Sum(p => p.numel()).Should().Be(28_088_024 - 2_049_000);
        var shapes = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        shapes["layer1.0.se.fc1.weight"].Should().Equal(16, 256, 1, 1);
        shapes["layer1.0.se.fc1.bias"].Should().Equal(16);
        shapes["layer4.2.se.fc2.weight"].Should().Equal(2048, 128, 1, 1);
        shapes["layer3.5.conv3.weight"].Should().Equal(1024, 256, 1, 1);
        net.eval();
        net.forward(randn(1, 3, 64, 64)).shape.Should().Equal(1, 2048, 2, 2);
    }

    [Fact]
    public void ResNeSt50d_HasTimmParameterCountNamesAndOutput()
    {
        using var scope = NewDisposeScope();
        var registration = ResNet.Registrations().Single(r => r.Item1.Name == "resnest50d");
        registration.Item1.OutputChannels.Should().Be(2048);
        var net = (ResNet)registration.Item2(BackboneOptions.Default);
        // timm resnest50d: 27,483,240 parameters, of which fc holds 2048 × 1000 + 1000.
        net.parameters().Sum(p => p.numel()).Should().Be(27_483_240 - 2_049_000);
        var shapes = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        shapes["conv1.0.weight"].Should().Equal(32, 3, 3, 3);
        shapes["conv1.3.weight"].Should().Equal(32, 32, 3, 3);
        shapes["conv1.6.weight"].Should().Equal(64, 32, 3, 3);
        shapes["layer1.0.conv2.conv.weight"].Should().Equal(128, 32, 3, 3);
        shapes["layer1.0.conv2.bn0.weight"].Should().Equal(128);
        shapes["layer1.0.conv2.fc1.weight"].Should().Equal(32, 64, 1, 1);
        shapes["layer1.0.conv2.bn1.running_var"].Should().Equal(32);
        shapes["layer1.0.conv2.fc2.weight"].Should().Equal(128, 32, 1, 1);
        shapes["layer4.0.conv2.fc1.weight"].Should().Equal(256, 512, 1, 1);
        shapes["layer1.0.downsample.1.weight"].Should().Equal(256, 64, 1, 1);
        shapes["layer2.0.downsample.2.running_mean"].Should().Equal(512);
        net.eval();
        net.forward(randn(1, 3, 64, 64)).shape.Should().Equal(1, 2048, 2, 2);
    }

    [Theory]
    [InlineData("seresnet50", "timm_seresnet50_keys.txt", 382)]
    [InlineData("resnest50d", "timm_resnest50d_keys.txt", 474)]
    public void StateDict_HasExactlyTimmsKeysAndShapes(string name, string keyFile, int count)
    {
        using var scope = NewDisposeScope();
        // Key lists of timm's own seresnet50 / resnest50d (Fixtures/make_timm_resnet_fixtures.py).
        var expected = TimmReference.ReadKeys(keyFile);
        using var net = BackboneRegistry.Create(name);
        var actual = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        actual.Should().HaveCount(count).And.BeEquivalentTo(expected);
    }

    [Fact]
    public void SEResNet_WithTimmWeights_ReproducesTimmsStagesAndFeatures()
    {
        using var scope = NewDisposeScope();
        // timm's ResNet with seresnet50's block arguments at planes 8..64 and 2, 1, 1, 1 blocks, random weights and BN statistics.
        var reference = TimmReference.ReadTensors("timm_seresnet_tiny.tensors");
        var net = new ResNet(new ResNetConfig { Block = ResNetBlockFactory.SqueezeExcitationBottleneck(16), Layers = [2, 1, 1, 1], Channels = [8, 16, 32, 64] });
        output.WriteLine($"largest difference from timm: {TimmReference.ShouldReproduceStages(net, reference, rtol: 1e-4, atol: 1e-4):G3}");
    }

    [Fact]
    public void ResNeSt_WithTimmWeights_ReproducesTimmsStagesAndFeatures()
    {
        using var scope = NewDisposeScope();
        // timm's ResNet with resnest50d's arguments (radix 2, avd, deep stem, average-pool shortcuts) at stem width 8, planes
        // 8..64 and 2, 1, 1, 1 blocks, random weights and BN statistics; the 40 × 40 input gives odd map sizes.
        var reference = TimmReference.ReadTensors("timm_resnest_tiny.tensors");
        var net = new ResNet(new ResNetConfig
        {
            Block = ResNetBlockFactory.SplitAttentionBottleneck(2), DeepStem = true, StemWidth = 8, AvgDown = true,
            Layers = [2, 1, 1, 1], Channels = [8, 16, 32, 64],
        });
        output.WriteLine($"largest difference from timm: {TimmReference.ShouldReproduceStages(net, reference, rtol: 1e-4, atol: 1e-4):G3}");
    }

    [Fact]
    public void SqueezeExcitation_GatesEachChannel_HandCase()
    {
        using var scope = NewDisposeScope();
        var se = new SqueezeExcitation(8, 16);
        se.ReducedChannels.Should().Be(8);
        var parameters = se.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            foreach (var p in parameters.Values)
                p.zero_();
            parameters["fc1.weight"][0, 0, 0, 0] = 1f;              // hidden 0 = mean of channel 0 = 1
            parameters["fc2.weight"][.., 0, 0, 0] = (float)Math.Log(3); // every logit = ln 3 · 1 → gate 0.75
            parameters["fc2.bias"][1] = -(float)Math.Log(3);          // channel 1: logit 0 → gate 0.5
        }
        var x = arange(1, 9, dtype: float32).reshape(1, 8, 1, 1).expand(1, 8, 3, 3).contiguous();
        var y = se.forward(x);
        float[] expected = Enumerable.Range(1, 8).Select(c => c == 2 ? 0.5f * c : 0.75f * c).ToArray();
        y[0, .., 1, 2].data<float>().ToArray().Should().BeEquivalentTo(expected, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-5f)).WhenTypeIs<float>().WithStrictOrdering());
    }

    [Fact]
    public void SplitAttention_RadixWeightsSumToOnePerChannel()
    {
        using var scope = NewDisposeScope();
        var sa = new SplitAttention(8, 8, groups: 2, radix: 3);
        var logits = randn(4, 24, 1, 1) * 3;
        var weights = sa.RadixWeights(logits);
        weights.shape.Should().Equal(4, 24);
        // Radix-major layout: weights[:, r·8 + c] belongs to split r of channel c.
        weights.reshape(4, 3, 8).sum(1).allclose(ones(4, 8), 1e-5, 1e-6).Should().BeTrue();
        (weights.min().item<float>() > 0).Should().BeTrue();
    }

    [Fact]
    public void SplitAttention_WithZeroAttentionLogits_AveragesTheSplits()
    {
        using var scope = NewDisposeScope();
        var sa = new SplitAttention(4, 6, radix: 2);
        sa.eval();
        var modules = sa.named_modules().ToDictionary(m => m.name, m => m.module);
        var fc2 = (Conv2d)modules["fc2"];
        using (no_grad())
        {
            fc2.weight!.zero_();
            fc2.bias!.zero_();
        }
        var x = randn(2, 4, 5, 5);
        var splits = nn.functional.relu(((BatchNorm2d)modules["bn0"]).forward(((Conv2d)modules["conv"]).forward(x))).reshape(2, 2, 6, 5, 5);
        var expected = splits.mean([1]);
        sa.forward(x).allclose(expected, 1e-5, 1e-6).Should().BeTrue();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SmallSEAndSplitAttentionNetworks_Train_GradientsReachTheStem(bool splitAttention)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var config = splitAttention
            ? new ResNetConfig { Block = ResNetBlockFactory.SplitAttentionBottleneck(2), DeepStem = true, StemWidth = 16, AvgDown = true, Layers = [1, 1, 1, 1], WidthPerGroup = 16 }
            : new ResNetConfig { Block = ResNetBlockFactory.SqueezeExcitationBottleneck(16), Layers = [1, 1, 1, 1], WidthPerGroup = 16 };
        var net = new ResNet(config);
        net.train();
        net.forward(randn(2, 3, 32, 32)).pow(2).mean().backward();
        string stemWeight = splitAttention ? "conv1.0.weight" : "conv1.weight";
        var grad = net.named_parameters().Single(p => p.name == stemWeight).parameter.grad;
        grad.Should().NotBeNull();
        grad!.isfinite().all().item<bool>().Should().BeTrue();
        grad.abs().sum().item<float>().Should().BeGreaterThan(0);
    }
}
