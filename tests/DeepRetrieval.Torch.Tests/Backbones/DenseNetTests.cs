using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>DenseNet-121 built once for the whole test class.</summary>
public sealed class DenseNetFixture : IDisposable
{
    public DenseNetFixture()
    {
        Net = DenseNet.DenseNet121(new BackboneOptions { Seed = 5 });
        Net.eval();
    }

    public DenseNet Net { get; }

    public void Dispose() => Net.Dispose();
}

public sealed class DenseNetTests(DenseNetFixture fixture) : IClassFixture<DenseNetFixture>
{
    private DenseNet Net => fixture.Net;

    [Fact]
    public void Forward_Gives1024By2By2NonNegativeMap_For64By64Images()
    {
        using var scope = NewDisposeScope();
        var map = Net.forward(randn(1, 3, 64, 64));
        map.shape.Should().Equal(1, 1024, 2, 2);
        map.min().item<float>().Should().BeGreaterThanOrEqualTo(0f, "norm5 is followed by ReLU");
        map.max().item<float>().Should().BeGreaterThan(0f);
        Net.OutputChannels.Should().Be(1024);
        Net.OutputStride.Should().Be(32);
    }

    [Fact]
    public void Stages_AreTimmFeatureInfo_AndAgreeWithForwardStagesShapes()
    {
        using var scope = NewDisposeScope();
        Net.Stages.Should().Equal(
            new BackboneStage("norm0", 64, 2), new BackboneStage("denseblock1", 256, 4), new BackboneStage("denseblock2", 512, 8),
            new BackboneStage("denseblock3", 1024, 16), new BackboneStage("norm5", 1024, 32));
        var images = randn(1, 3, 64, 64);
        var maps = Net.ForwardStages(images, "norm0", "denseblock1", "denseblock2", "denseblock3", "norm5");
        maps.Select(m => m.shape).Should().BeEquivalentTo(
            new[] { new long[] { 1, 64, 32, 32 }, [1, 256, 16, 16], [1, 512, 8, 8], [1, 1024, 4, 4], [1, 1024, 2, 2] }, o => o.WithStrictOrdering());
        maps[^1].allclose(Net.forward(images)).Should().BeTrue();
    }

    [Fact]
    public void ParameterCount_Is6953856_TorchvisionsMinusTheClassifier()
    {
        // torchvision densenet121: 7,978,856 parameters, of which the classifier holds 1024 × 1000 + 1000.
        Net.parameters().Sum(p => p.numel()).Should().Be(6_953_856);
        // conv0 + norm0 (3), 58 dense layers × (2 norms + 2 convs = 6), 3 transitions × 3, norm5 (2).
        Net.parameters().Should().HaveCount(3 + 58 * 6 + 3 * 3 + 2);
    }

    [Fact]
    public void StateDictKeys_AreTorchvisions_WithTorchvisionShapes()
    {
        var shapes = Net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = new Dictionary<string, long[]>
        {
            ["features.conv0.weight"] = [64, 3, 7, 7],
            ["features.norm0.running_mean"] = [64],
            ["features.denseblock1.denselayer1.norm1.weight"] = [64],
            ["features.denseblock1.denselayer1.conv1.weight"] = [128, 64, 1, 1],
            ["features.denseblock1.denselayer6.conv2.weight"] = [32, 128, 3, 3],
            ["features.transition1.norm.weight"] = [256],
            ["features.transition1.conv.weight"] = [128, 256, 1, 1],
            ["features.transition3.conv.weight"] = [512, 1024, 1, 1],
            ["features.denseblock4.denselayer16.norm1.running_var"] = [992],
            ["features.denseblock4.denselayer16.conv1.weight"] = [128, 992, 1, 1],
            ["features.norm5.weight"] = [1024],
            ["features.norm5.num_batches_tracked"] = [],
        };
        foreach (var (key, shape) in expected)
            shapes.Should().ContainKey(key).WhoseValue.Should().Equal(shape, key);
        shapes.Keys.Should().OnlyContain(k => k.StartsWith("features.", StringComparison.Ordinal));
    }

    [Fact]
    public void FreezeStages_FreezesTheBlockAndItsIncomingTransitionOnly()
    {
        Net.FreezeStages("denseblock2");
        try
        {
            foreach (var (name, p) in Net.named_parameters())
            {
                bool frozen = name.StartsWith("features.conv0", StringComparison.Ordinal) || name.StartsWith("features.norm0", StringComparison.Ordinal)
                    || name.StartsWith("features.denseblock1.", StringComparison.Ordinal) || name.StartsWith("features.transition1.", StringComparison.Ordinal)
                    || name.StartsWith("features.denseblock2.", StringComparison.Ordinal);
                p.requires_grad.Should().Be(!frozen, name);
            }
            Net.FreezeStages(Net.Stages.Count);
            Net.parameters().Should().OnlyContain(p => !p.requires_grad);
        }
        finally
        {
            Net.Unfreeze();
        }
    }

    [Fact]
    public void Forward_RejectsWrongChannelsAndTooSmallImages_NamingTheLimit()
    {
        using var scope = NewDisposeScope();
        // 29 → conv0 15 → pool0 8 → transitions 4, 2, 1; 28 → 14 → 7 → 3 → 1 → 0.
        Net.MinimumInputSize.Should().Be(29);
        Net.forward(randn(1, 3, 29, 29)).shape.Should().Equal(1, 1024, 1, 1);
        Net.Invoking(n => n.forward(randn(1, 3, 28, 40))).Should().Throw<ArgumentException>().WithMessage("*at least 29 × 29*28 × 40*");
        Net.Invoking(n => n.forward(randn(1, 1, 64, 64))).Should().Throw<ArgumentException>().WithMessage("*3-channel*1 channels*");
        Net.Invoking(n => n.forward(randn(3, 64, 64))).Should().Throw<ArgumentException>().WithMessage("*N × C × H × W*");
    }

    [Fact]
    public void Constructor_BuildsSmallerConfigurations_AndGreyInput()
    {
        using var scope = NewDisposeScope();
        var small = new DenseNet(growthRate: 8, blockConfig: [2, 2], initialFeatures: 16, bottleneckFactor: 2, inputChannels: 1);
        small.eval();
        // 16 + 2·8 = 32 after block 1, halved to 16, + 2·8 = 32 after block 2.
        small.Stages.Should().Equal(new BackboneStage("norm0", 16, 2), new BackboneStage("denseblock1", 32, 4), new BackboneStage("norm5", 32, 8));
        small.forward(randn(2, 1, 32, 32)).shape.Should().Equal(2, 32, 4, 4);
        small.state_dict().Keys.Should().Contain("features.norm5.weight").And.Contain("features.transition1.conv.weight").And.NotContain("features.transition2.conv.weight");
        FluentActions.Invoking(() => new DenseNet(blockConfig: [6, 0])).Should().Throw<ArgumentException>().WithMessage("*blockConfig*");
    }

    [Fact]
    public void FreezeBatchNorm_CoversTheStemAndFinalNorms_GivenDirectlyAsStageModules()
    {
        using var scope = NewDisposeScope();
        var small = new DenseNet(growthRate: 4, blockConfig: [1, 1], initialFeatures: 8, bottleneckFactor: 1);
        small.FreezeBatchNorm();
        small.train();
        var norms = small.named_modules().Where(m => m.module is TorchSharp.Modules.BatchNorm2d).ToList();
        // norm0, two blocks of one layer with two norms each, transition1.norm, norm5.
        norms.Select(m => m.name).Should().Contain(["features.norm0", "features.norm5"]).And.HaveCount(7);
        norms.Should().OnlyContain(m => !m.module.training);
        var norm0 = (TorchSharp.Modules.BatchNorm2d)norms.First(m => m.name == "features.norm0").module;
        var before = norm0.running_mean!.clone();
        small.forward(randn(2, 3, 32, 32) * 3 + 1);
        norm0.running_mean!.allclose(before, 0, 0).Should().BeTrue();
        norm0.weight!.requires_grad.Should().BeFalse();
    }

    [Fact]
    public void Registration_DescribesDenseNet121()
    {
        var (info, factory) = DenseNet.Registrations().Single();
        info.Should().Be(new BackboneInfo("densenet121", 1024, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd) { Pretrained = info.Pretrained });
        info.Pretrained!.FileName.Should().Be("densenet121.ra_in1k.safetensors");
        info.OutputChannels.Should().Be(Net.OutputChannels);
        info.OutputStride.Should().Be(Net.OutputStride);
        factory.Should().NotBeNull();
    }
}
