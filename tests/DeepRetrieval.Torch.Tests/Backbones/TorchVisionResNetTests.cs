using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class TorchVisionResNetTests
{
    // Parameter element counts of torchvision's models minus fc (torchvision's documented num_params minus 1000 × C + 1000),
    // and parameter / buffer tensor counts of the state dict without fc; worked out with Fixtures/torchvision_counts.py (torch only, no torchvision).
    [Theory]
    [InlineData("resnet18", 11_176_512L, 60, 512)]
    [InlineData("resnet34", 21_284_672L, 108, 512)]
    [InlineData("resnet50", 23_508_032L, 159, 2048)]
    [InlineData("resnet101", 42_500_160L, 312, 2048)]
    [InlineData("resnet152", 58_143_808L, 465, 2048)]
    [InlineData("resnext50_32x4d", 22_979_904L, 159, 2048)]
    [InlineData("resnext101_32x8d", 86_742_336L, 312, 2048)]
    [InlineData("resnext101_64x4d", 81_406_272L, 312, 2048)]
    [InlineData("wide_resnet50_2", 66_834_240L, 159, 2048)]
    [InlineData("wide_resnet101_2", 124_837_696L, 312, 2048)]
    public void RegisteredArchitecture_HasTorchvisionSizes_AndStagesMatchForwardStages(string name, long parameterElements, int tensors, int channels)
    {
        using var scope = NewDisposeScope();
        var (info, factory) = TorchVisionResNet.Registrations().Single(r => r.Item1.Name == name);
        info.OutputChannels.Should().Be(channels);
        info.OutputStride.Should().Be(32);
        info.InputSize.Should().Be(224);
        info.Mean.Should().Equal(BackboneInfo.ImageNetMean);
        using var net = factory(BackboneOptions.Default);
        net.parameters().Sum(p => p.numel()).Should().Be(parameterElements);
        net.parameters().Count().Should().Be(tensors);
        net.buffers().Count().Should().Be(tensors);
        net.named_parameters().Should().NotContain(p => p.name.StartsWith("fc.", StringComparison.Ordinal));

        net.Stages.Select(s => s.Name).Should().Equal("stem", "layer1", "layer2", "layer3", "layer4");
        net.OutputChannels.Should().Be(info.OutputChannels);
        net.OutputStride.Should().Be(info.OutputStride);
        net.eval();
        var maps = net.ForwardStages(randn(1, 3, 32, 32), net.Stages.Select(s => s.Name).ToArray());
        for (int i = 0; i < maps.Count; i++)
        {
            var stage = net.Stages[i];
            maps[i].shape.Should().Equal([1, stage.Channels, 32 / stage.Stride, 32 / stage.Stride], stage.Name);
        }
    }

    [Fact]
    public void Forward_Gives512By2By2Map_ForResnet18At64Pixels()
    {
        using var scope = NewDisposeScope();
        using var net = BuildRegistered("resnet18", new BackboneOptions { Seed = 3 });
        net.forward(randn(2, 3, 64, 64)).shape.Should().Equal(2, 512, 2, 2);
    }

    [Fact]
    public void StateDictKeys_AreTorchvisionKeysWithoutFc()
    {
        using var net = new TorchVisionResNet("resnet18");
        var keys = net.state_dict().Keys.ToList();
        keys.Should().HaveCount(120);
        keys.Should().Contain(["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "layer1.0.conv1.weight", "layer1.1.bn2.running_var", "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.num_batches_tracked", "layer4.1.conv2.weight", "layer4.1.bn2.bias"]);
        keys.Should().NotContain(k => k.StartsWith("fc.", StringComparison.Ordinal) || k.StartsWith("layer1.0.downsample", StringComparison.Ordinal));
        net.state_dict()["layer3.0.conv1.weight"].shape.Should().Equal(256, 128, 3, 3);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnext50_32x4d")]
    public void StateDict_HasExactlyTorchvisionKeysAndShapes_WithoutFc(string architecture)
    {
        using var net = new TorchVisionResNet(architecture);
        TorchVisionStateDictFixtures.Actual(net).Should().Equal(TorchVisionStateDictFixtures.Expected(architecture));
    }

    [Fact]
    public void ResNeXtBlocks_UseGroupedConvolutionsOfTorchvisionWidth()
    {
        using var net = new TorchVisionResNet("resnext50_32x4d");
        var sd = net.state_dict();
        // width = planes × width_per_group / 64 × groups = 64 × 4 / 64 × 32 = 128; the 3 × 3 conv sees 128 / 32 = 4 channels per group.
        sd["layer1.0.conv1.weight"].shape.Should().Equal(128, 64, 1, 1);
        sd["layer1.0.conv2.weight"].shape.Should().Equal(128, 4, 3, 3);
        sd["layer1.0.conv3.weight"].shape.Should().Equal(256, 128, 1, 1);
    }

    [Fact]
    public void StateDict_RoundTripsThroughAnotherInstance()
    {
        using var scope = NewDisposeScope();
        using var source = new TorchVisionResNet("resnet18");
        using var target = new TorchVisionResNet("resnet18");
        var (missing, unexpected) = target.load_state_dict(source.state_dict());
        missing.Should().BeEmpty();
        unexpected.Should().BeEmpty();
        source.eval();
        target.eval();
        var x = randn(1, 3, 32, 32);
        target.forward(x).allclose(source.forward(x)).Should().BeTrue();
    }

    [Fact]
    public void InputChannels1_RebuildsConv1_AndRejectsColourImages()
    {
        using var scope = NewDisposeScope();
        using var net = BuildRegistered("resnet18", new BackboneOptions { InputChannels = 1 });
        net.state_dict()["conv1.weight"].shape.Should().Equal(64, 1, 7, 7);
        net.named_parameters().Should().HaveCount(60);
        net.forward(randn(2, 1, 64, 64)).shape.Should().Equal(2, 512, 2, 2);
        net.Invoking(n => n.forward(randn(2, 3, 64, 64))).Should().Throw<ArgumentException>().WithMessage("*1-channel*3 channels*InputChannels*");
        net.Invoking(n => n.ForwardStages(randn(2, 3, 64, 64), "stem")).Should().Throw<ArgumentException>().WithMessage("*1-channel*");
    }

    [Fact]
    public void FreezeStages_StopsGradientsUpToTheNamedStage()
    {
        using var scope = NewDisposeScope();
        using var net = new TorchVisionResNet("resnet18");
        net.FreezeStages("layer2");
        net.forward(randn(2, 3, 64, 64)).sum().backward();
        string[] trainable = ["layer3.", "layer4."];
        foreach (var (name, p) in net.named_parameters())
        {
            bool frozen = !trainable.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal));
            p.requires_grad.Should().Be(!frozen, name);
            (p.grad is null).Should().Be(frozen, name);
        }
        net.FrozenStageCount.Should().Be(3);
        net.Invoking(n => n.FreezeStages("layer5")).Should().Throw<ArgumentException>().WithMessage("*layer5*resnet18*stem, layer1, layer2, layer3, layer4*");
    }

    [Fact]
    public void Constructor_RejectsUnknownArchitecture_ListingKnownOnes()
    {
        FluentActions.Invoking(() => new TorchVisionResNet("resnet9")).Should().Throw<ArgumentException>().WithMessage("*resnet9*resnet18*wide_resnet101_2*");
        FluentActions.Invoking(() => new TorchVisionResNet("resnet18", 0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private static Backbone BuildRegistered(string name, BackboneOptions options)
    {
        var (info, factory) = TorchVisionResNet.Registrations().Single(r => r.Item1.Name == name);
        BackboneRegistry.Register(info, factory);
        return BackboneRegistry.Create(name, options);
    }
}
