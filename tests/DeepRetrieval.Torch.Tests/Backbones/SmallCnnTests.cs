using DeepRetrieval.Torch.Backbones;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class SmallCnnTests
{
    [Fact]
    public void Forward_Gives128By7By7Map_For28By28Images()
    {
        using var scope = NewDisposeScope();
        var net = BackboneRegistry.Create("small_cnn", new BackboneOptions { Seed = 1 });
        net.OutputChannels.Should().Be(128);
        net.OutputStride.Should().Be(4);
        net.forward(randn(2, 1, 28, 28)).shape.Should().Equal(2, 128, 7, 7);
    }

    [Fact]
    public void ParameterNames_FollowTheReferenceSequentialLayout()
    {
        var names = new SmallCnn().named_parameters().Select(p => p.name).ToList();
        names.Should().Equal(
            "features.0.conv.weight", "features.0.bn.weight", "features.0.bn.bias",
            "features.1.conv.weight", "features.1.bn.weight", "features.1.bn.bias",
            "features.3.conv.weight", "features.3.bn.weight", "features.3.bn.bias",
            "features.4.conv.weight", "features.4.bn.weight", "features.4.bn.bias",
            "features.6.conv.weight", "features.6.bn.weight", "features.6.bn.bias");
    }

    [Fact]
    public void ForwardStages_ReturnsEachRequestedMap_InRequestedOrder_AndTheLastEqualsForward()
    {
        using var scope = NewDisposeScope();
        var net = new SmallCnn();
        net.eval();
        var x = randn(3, 1, 28, 28);
        var maps = net.ForwardStages(x, "block3", "block1", "block2");
        maps.Select(m => m.shape).Should().BeEquivalentTo(new[] { new long[] { 3, 128, 7, 7 }, [3, 32, 28, 28], [3, 64, 14, 14] }, o => o.WithStrictOrdering());
        maps[0].allclose(net.forward(x)).Should().BeTrue();
        net.Invoking(n => n.ForwardStages(x, "layer9")).Should().Throw<ArgumentException>().WithMessage("*layer9*block1, block2, block3*");
    }

    [Fact]
    public void FreezeStages_StopsGradientsOfTheFirstStagesOnly()
    {
        using var scope = NewDisposeScope();
        var net = new SmallCnn();
        net.FreezeStages("block2");
        net.forward(randn(4, 1, 28, 28)).sum().backward();
        foreach (var (name, p) in net.named_parameters())
        {
            bool frozen = !name.StartsWith("features.6.", StringComparison.Ordinal);
            p.requires_grad.Should().Be(!frozen, name);
            (p.grad is null).Should().Be(frozen, name);
        }
        net.Unfreeze();
        net.parameters().Should().OnlyContain(p => p.requires_grad);
    }

    [Fact]
    public void FreezeBatchNorm_KeepsRunningStatisticsWhileTraining()
    {
        using var scope = NewDisposeScope();
        var net = new SmallCnn();
        net.FreezeBatchNorm();
        net.train();
        var bn = net.modules().OfType<BatchNorm2d>().First();
        var before = bn.running_mean!.clone();
        net.forward(randn(4, 1, 28, 28) * 3 + 2);
        bn.running_mean!.allclose(before, 0, 0).Should().BeTrue();
        bn.weight!.requires_grad.Should().BeFalse();
        net.FreezeBatchNorm(false);
        net.forward(randn(4, 1, 28, 28) * 3 + 2);
        bn.running_mean!.allclose(before, 0, 0).Should().BeFalse();
        bn.weight!.requires_grad.Should().BeTrue();
    }

    [Fact]
    public void Registry_RejectsUnknownNames_ListingTheKnownOnes()
    {
        FluentActions.Invoking(() => BackboneRegistry.Create("resnet9000")).Should().Throw<ArgumentException>().WithMessage("*resnet9000*small_cnn*");
        BackboneRegistry.Describe("SMALL_CNN").OutputChannels.Should().Be(128);
    }
}
