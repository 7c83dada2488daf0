using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class TorchVisionMobileNetTests
{
    // Parameter elements of torchvision's features (documented num_params minus the classifier: 3,504,872 − 1,281,000;
    // 2,542,856 − 1,615,848; 5,483,032 − 2,511,080), cross-checked by Fixtures/torchvision_mobilenet_counts.py.
    [Theory]
    [InlineData("mobilenet_v2", 2_223_872L, 1280)]
    [InlineData("mobilenet_v3_small", 927_008L, 576)]
    [InlineData("mobilenet_v3_large", 2_971_952L, 960)]
    public void RegisteredArchitecture_HasTorchvisionStateDict_AndStagesMatchForwardStages(string name, long parameterElements, int channels)
    {
        using var scope = NewDisposeScope();
        var (info, factory) = TorchVisionMobileNet.Registrations().Single(r => r.Item1.Name == name);
        (info.OutputChannels, info.OutputStride, info.InputSize).Should().Be((channels, 32, 224));
        using var net = factory(BackboneOptions.Default);
        net.parameters().Sum(p => p.numel()).Should().Be(parameterElements);
        TorchVisionStateDictFixtures.Actual(net).Should().Equal(TorchVisionStateDictFixtures.Expected(name));

        net.Stages.Select(s => s.Stride).Should().Equal(2, 4, 8, 16, 32);
        (net.OutputChannels, net.OutputStride).Should().Be((channels, 32));
        net.eval();
        var maps = net.ForwardStages(randn(1, 3, 64, 64), net.Stages.Select(s => s.Name).ToArray());
        for (int i = 0; i < maps.Count; i++)
        {
            var stage = net.Stages[i];
            maps[i].shape.Should().Equal([1, stage.Channels, 64 / stage.Stride, 64 / stage.Stride], stage.Name);
        }
    }

    [Fact]
    public void Stages_EndWhereTheStrideDoubles()
    {
        using var v2 = new TorchVisionMobileNet("mobilenet_v2");
        v2.Stages.Should().Equal(
            new BackboneStage("features.1", 16, 2), new BackboneStage("features.3", 24, 4), new BackboneStage("features.6", 32, 8),
            new BackboneStage("features.13", 96, 16), new BackboneStage("features.18", 1280, 32));
        using var small = new TorchVisionMobileNet("mobilenet_v3_small");
        small.Stages.Should().Equal(
            new BackboneStage("features.0", 16, 2), new BackboneStage("features.1", 16, 4), new BackboneStage("features.3", 24, 8),
            new BackboneStage("features.8", 48, 16), new BackboneStage("features.12", 576, 32));
        using var large = new TorchVisionMobileNet("mobilenet_v3_large");
        large.Stages.Select(s => (s.Name, s.Channels)).Should().Equal(
            ("features.1", 16), ("features.3", 24), ("features.6", 40), ("features.12", 112), ("features.16", 960));
    }

    [Fact]
    public void V3SqueezeExcitation_UsesReLUAndHardSigmoid_AsTorchvision()
    {
        using var net = new TorchVisionMobileNet("mobilenet_v3_large");
        net.modules().OfType<ReLU6>().Should().BeEmpty("torchvision's MobileNet V3 has no ReLU6");
        net.modules().OfType<Hardsigmoid>().Should().HaveCount(8, "eight large blocks use squeeze-excitation");
    }

    [Fact]
    public void V3Forward_AddsTheInputBack_OnlyInStrideOneBlocksWithEqualChannels()
    {
        using var scope = NewDisposeScope();
        using var net = new TorchVisionMobileNet("mobilenet_v3_small");
        net.eval();
        var block = (nn.Module<Tensor, Tensor>)net.named_modules().Single(m => m.name == "features.3").module; // 24 → 24, stride 1
        var inner = (nn.Module<Tensor, Tensor>)net.named_modules().Single(m => m.name == "features.3.block").module;
        var x = randn(2, 24, 8, 8);
        block.forward(x).allclose(inner.forward(x) + x, 1e-5, 1e-6).Should().BeTrue();
        var downsampling = (nn.Module<Tensor, Tensor>)net.named_modules().Single(m => m.name == "features.2").module; // 16 → 24, stride 2
        var downsamplingInner = (nn.Module<Tensor, Tensor>)net.named_modules().Single(m => m.name == "features.2.block").module;
        var y = randn(2, 16, 8, 8);
        downsampling.forward(y).allclose(downsamplingInner.forward(y)).Should().BeTrue();
    }

    [Theory]
    [InlineData("mobilenet_v2", 32)]
    [InlineData("mobilenet_v3_small", 16)]
    public void InputChannels1_RebuildsTheFirstConvolution(string name, int stemChannels)
    {
        using var scope = NewDisposeScope();
        var (info, factory) = TorchVisionMobileNet.Registrations().Single(r => r.Item1.Name == name);
        BackboneRegistry.Register(info, factory);
        using var net = BackboneRegistry.Create(name, new BackboneOptions { InputChannels = 1, Seed = 5 });
        net.state_dict()["features.0.0.weight"].shape.Should().Equal(stemChannels, 1, 3, 3);
        net.state_dict().Keys.Should().Contain(name == "mobilenet_v2" ? "features.1.conv.0.0.weight" : "features.1.block.0.0.weight");
        net.forward(randn(2, 1, 64, 64)).shape.Should().Equal(2, info.OutputChannels, 2, 2);
        net.Invoking(n => n.forward(randn(2, 3, 64, 64))).Should().Throw<ArgumentException>().WithMessage($"*{name}*1-channel*");
    }

    [Fact]
    public void FreezeStages_FreezesTheStemAndFirstBlocks()
    {
        using var scope = NewDisposeScope();
        using var net = new TorchVisionMobileNet("mobilenet_v2");
        net.FreezeStages("features.1");
        net.forward(randn(2, 3, 64, 64)).sum().backward();
        foreach (var (name, p) in net.named_parameters())
        {
            bool frozen = name.StartsWith("features.0.", StringComparison.Ordinal) || name.StartsWith("features.1.", StringComparison.Ordinal);
            p.requires_grad.Should().Be(!frozen, name);
            (p.grad is null).Should().Be(frozen, name);
        }
    }

    [Fact]
    public void Constructor_RejectsUnknownArchitecture_ListingKnownOnes() =>
        FluentActions.Invoking(() => new TorchVisionMobileNet("mobilenet_v4")).Should().Throw<ArgumentException>()
            .WithMessage("*mobilenet_v4*mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large*");
}
