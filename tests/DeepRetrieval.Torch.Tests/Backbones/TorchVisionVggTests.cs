using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class TorchVisionVggTests
{
    // Counts of torchvision's vgg*.features (parameter elements, parameter tensors, buffers, layers, last state-dict key);
    // worked out with Fixtures/torchvision_vgg_counts.py. vgg16's 14,714,688 is torchvision's 138,357,544 minus the classifier.
    [Theory]
    [InlineData("vgg11", 9_220_480L, 16, 0, 21, "features.18.bias")]
    [InlineData("vgg11_bn", 9_225_984L, 32, 24, 29, "features.26.num_batches_tracked")]
    [InlineData("vgg13", 9_404_992L, 20, 0, 25, "features.22.bias")]
    [InlineData("vgg13_bn", 9_410_880L, 40, 30, 35, "features.32.num_batches_tracked")]
    [InlineData("vgg16", 14_714_688L, 26, 0, 31, "features.28.bias")]
    [InlineData("vgg16_bn", 14_723_136L, 52, 39, 44, "features.41.num_batches_tracked")]
    [InlineData("vgg19", 20_024_384L, 32, 0, 37, "features.34.bias")]
    [InlineData("vgg19_bn", 20_035_392L, 64, 48, 53, "features.50.num_batches_tracked")]
    public void RegisteredArchitecture_HasTorchvisionFeatures_AndStagesMatchForwardStages(
        string name, long parameterElements, int parameters, int buffers, int layers, string lastKey)
    {
        using var scope = NewDisposeScope();
        var (info, factory) = TorchVisionVgg.Registrations().Single(r => r.Item1.Name == name);
        (info.OutputChannels, info.OutputStride, info.InputSize).Should().Be((512, 32, 224));
        using var net = factory(BackboneOptions.Default);
        net.parameters().Sum(p => p.numel()).Should().Be(parameterElements);
        net.parameters().Should().HaveCount(parameters);
        net.buffers().Should().HaveCount(buffers);
        net.state_dict().Keys.Should().Contain(["features.0.weight", "features.0.bias", lastKey]);
        net.state_dict().Keys.Should().OnlyContain(k => k.StartsWith("features.", StringComparison.Ordinal));

        net.Stages.Select(s => s.Stride).Should().Equal(1, 2, 4, 8, 16, 32);
        net.Stages[^1].Name.Should().Be($"features.{layers - 1}", "the last max-pool is the last stage");
        net.Stages[^2].Name.Should().Be($"features.{layers - 2}", "the stride-16 stage ends just before the last max-pool");
        (net.OutputChannels, net.OutputStride).Should().Be((info.OutputChannels, info.OutputStride));
        net.eval();
        var maps = net.ForwardStages(randn(1, 3, 32, 32), net.Stages.Select(s => s.Name).ToArray());
        for (int i = 0; i < maps.Count; i++)
        {
            var stage = net.Stages[i];
            maps[i].shape.Should().Equal([1, stage.Channels, 32 / stage.Stride, 32 / stage.Stride], stage.Name);
        }
    }

    [Fact]
    public void Vgg16Stages_AreTimmFeatureInfoModules()
    {
        using var net = new TorchVisionVgg("vgg16");
        net.Stages.Should().Equal(
            new BackboneStage("features.3", 64, 1), new BackboneStage("features.8", 128, 2), new BackboneStage("features.15", 256, 4),
            new BackboneStage("features.22", 512, 8), new BackboneStage("features.29", 512, 16), new BackboneStage("features.30", 512, 32));
        using var bn = new TorchVisionVgg("vgg16_bn");
        bn.Stages.Select(s => s.Name).Should().Equal("features.5", "features.12", "features.22", "features.32", "features.42", "features.43");
        bn.HasBatchNorm.Should().BeTrue();
    }

    [Fact]
    public void Forward_Gives512By2By2Map_At64Pixels_AndEqualsTheLastStage()
    {
        using var scope = NewDisposeScope();
        using var net = new TorchVisionVgg("vgg11_bn");
        net.eval();
        var x = randn(2, 3, 64, 64);
        var output = net.forward(x);
        output.shape.Should().Equal(2, 512, 2, 2);
        net.ForwardStages(x, "features.28")[0].allclose(output).Should().BeTrue();
    }

    [Fact]
    public void InputChannels1_BuildsTheFirstConvolutionForGreyImages()
    {
        using var scope = NewDisposeScope();
        using var net = new TorchVisionVgg("vgg11", inputChannels: 1);
        net.state_dict()["features.0.weight"].shape.Should().Equal(64, 1, 3, 3);
        net.forward(randn(1, 1, 32, 32)).shape.Should().Equal(1, 512, 1, 1);
        net.Invoking(n => n.forward(randn(1, 3, 32, 32))).Should().Throw<ArgumentException>().WithMessage("*vgg11*1-channel*3 channels*");
    }

    [Fact]
    public void FreezeStages_FreezesTheFirstResolutions()
    {
        using var scope = NewDisposeScope();
        using var net = new TorchVisionVgg("vgg11");
        net.FreezeStages(2);
        net.forward(randn(2, 3, 32, 32)).sum().backward();
        // vgg11: features.0 (stage features.1) and features.3 (stage features.4) are frozen; features.6 onwards trains.
        foreach (var (name, p) in net.named_parameters())
        {
            bool frozen = name.StartsWith("features.0.", StringComparison.Ordinal) || name.StartsWith("features.3.", StringComparison.Ordinal);
            p.requires_grad.Should().Be(!frozen, name);
            (p.grad is null).Should().Be(frozen, name);
        }
    }

    [Fact]
    public void Constructor_RejectsUnknownArchitecture_ListingKnownOnes()
    {
        FluentActions.Invoking(() => new TorchVisionVgg("vgg17")).Should().Throw<ArgumentException>().WithMessage("*vgg17*vgg11, vgg11_bn*");
        FluentActions.Invoking(() => new TorchVisionVgg("vgg16", -1)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
