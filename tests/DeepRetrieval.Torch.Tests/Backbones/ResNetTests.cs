using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ResNet = DeepRetrieval.Torch.Backbones.ResNet;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class ResNetTests
{
    private static readonly ResNetConfig ResNet18 = new() { Block = ResNetBlockFactory.Basic, Layers = [2, 2, 2, 2] };

    [Fact]
    public void BasicConfig_HasTorchvisionResNet18ParameterCountAndNames()
    {
        var net = new ResNet(ResNet18);
        // torchvision resnet18 has 11,689,512 parameters, of which fc holds 512 × 1000 + 1000.
        net.parameters().Sum(p => p.numel()).Should().Be(11_689_512 - 513_000);
        var names = net.state_dict().Keys.ToList();
        names.Should().Contain(["conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer1.1.bn2.bias",
            "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_mean", "layer4.1.conv2.weight"]);
        names.Should().NotContain(n => n.StartsWith("layer1.0.downsample", StringComparison.Ordinal));
    }

    [Fact]
    public void BottleneckConfig_HasTorchvisionResNet50ParameterCount()
    {
        var net = new ResNet();
        net.parameters().Sum(p => p.numel()).Should().Be(25_557_032 - 2_049_000);
        net.state_dict().Keys.Should().Contain(["layer1.0.downsample.0.weight", "layer3.5.conv3.weight", "layer4.2.bn3.running_var"]);
    }

    [Fact]
    public void ResNeXtConfig_HasTorchvisionResNeXt50ParameterCount()
    {
        var net = new ResNet(new ResNetConfig { Groups = 32, WidthPerGroup = 4 });
        net.parameters().Sum(p => p.numel()).Should().Be(25_028_904 - 2_049_000);
    }

    [Fact]
    public void Forward_GivesStride32Map_AndStagesHaveTheExpectedShapes()
    {
        using var scope = NewDisposeScope();
        var net = new ResNet(ResNet18 with { Layers = [1, 2, 1, 3] });
        net.eval();
        net.OutputChannels.Should().Be(512);
        net.OutputStride.Should().Be(32);
        net.Stages.Select(s => (s.Name, s.Channels, s.Stride)).Should().Equal(
            ("stem", 64, 4), ("layer1", 64, 4), ("layer2", 128, 8), ("layer3", 256, 16), ("layer4", 512, 32));
        var x = randn(2, 3, 64, 64);
        var maps = net.ForwardStages(x, "stem", "layer2", "layer4");
        maps.Select(m => m.shape).Should().BeEquivalentTo(new[] { new long[] { 2, 64, 16, 16 }, [2, 128, 8, 8], [2, 512, 2, 2] }, o => o.WithStrictOrdering());
        net.forward(x).allclose(maps[2]).Should().BeTrue();
        net.state_dict().Keys.Should().Contain("layer4.2.conv1.weight").And.NotContain("layer4.3.conv1.weight");
    }

    [Fact]
    public void DeepStemAvgDown_UsesTimmNames()
    {
        using var scope = NewDisposeScope();
        var net = new ResNet(ResNet18 with { DeepStem = true, StemWidth = 16, AvgDown = true, Layers = [1, 1, 1, 1] });
        net.state_dict().Keys.Should().Contain(["conv1.0.weight", "conv1.1.weight", "conv1.3.weight", "conv1.4.running_mean", "conv1.6.weight",
            "bn1.weight", "layer2.0.downsample.1.weight", "layer2.0.downsample.2.running_var"]);
        net.Stages[0].Channels.Should().Be(32);
        net.forward(randn(2, 3, 64, 64)).shape.Should().Equal(2, 512, 2, 2);
    }

    [Fact]
    public void PaddedConv2d_PadsOnlyWhereAsked_HandValues()
    {
        using var scope = NewDisposeScope();
        var conv = new PaddedConv2d(1, 1, 3, 2, 1, 0);
        using (no_grad())
            conv.Weight.fill_(1);
        // 4 × 4 ones, padding one row/column at the start only: the windows cover 2 × 2, 2 × 3, 3 × 2 and 3 × 3 ones.
        var y = conv.forward(ones(1, 1, 4, 4));
        y.shape.Should().Equal(1, 1, 2, 2);
        y.flatten().data<float>().ToArray().Should().Equal(4f, 6f, 6f, 9f);
        conv.named_parameters().Select(p => p.name).Should().Equal("weight");
    }

    [Fact]
    public void PaddedMaxPool2d_NeverPicksThePadding()
    {
        using var scope = NewDisposeScope();
        var pool = new PaddedMaxPool2d(3, 2, 1, 0);
        var y = pool.forward(full(1, 1, 4, 4, -5f));
        y.shape.Should().Equal(1, 1, 2, 2);
        y.flatten().data<float>().ToArray().Should().Equal(-5f, -5f, -5f, -5f);
    }

    [Fact]
    public void ExtraAtStartPadding_EqualsSymmetric_ForEvenSizes_AndDiffersInShapeForOdd()
    {
        using var scope = NewDisposeScope();
        var symmetric = new ResNet(ResNet18 with { Layers = [1, 1, 1, 1] });
        var cntk = new ResNet(ResNet18 with { Layers = [1, 1, 1, 1], Padding = ResNetPadding.ExtraAtStart });
        cntk.load_state_dict(symmetric.state_dict());
        symmetric.eval();
        cntk.eval();
        var x = randn(2, 3, 64, 96);
        cntk.forward(x).allclose(symmetric.forward(x), 1e-5, 1e-5).Should().BeTrue();
        cntk.modules().OfType<PaddedConv2d>().Should().HaveCount(4);
        // 65 rows: the 7 × 7 stride-2 stem gives 33 rows with 3 + 3 padding but 32 with 3 + 2.
        cntk.ForwardStages(randn(1, 3, 65, 64), "stem")[0].shape[2].Should().Be(16);
        symmetric.ForwardStages(randn(1, 3, 65, 64), "stem")[0].shape[2].Should().Be(17);
    }

    [Fact]
    public void InvalidConfig_IsRejected()
    {
        FluentActions.Invoking(() => new ResNet(ResNet18 with { Layers = [2, 2, 2] })).Should().Throw<ArgumentException>().WithMessage("*four*");
        FluentActions.Invoking(() => new ResNet(ResNet18 with { Groups = 2 })).Should().Throw<ArgumentException>().WithMessage("*basic block*");
        FluentActions.Invoking(() => new ResNet(ResNet18, 0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void CustomBlockFactory_IsUsedForEveryBlock()
    {
        int created = 0;
        var factory = ResNetBlockFactory.FromDelegate(1, spec =>
        {
            created++;
            return new BasicBlock(spec);
        });
        var net = new ResNet(ResNet18 with { Block = factory, Layers = [1, 2, 1, 1] });
        created.Should().Be(5);
        net.OutputChannels.Should().Be(512);
    }
}
