using DeepRetrieval.Torch.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>
/// The networks against timm itself (fixtures from Fixtures/make_timm_fixtures.py): full state-dict key lists of
/// efficientnet_b0 and densenet121, and forward outputs of small configurations with timm's weights loaded.
/// </summary>
public sealed class TimmAgreementTests(EfficientNetFixture efficientNets, DenseNetFixture denseNets)
    : IClassFixture<EfficientNetFixture>, IClassFixture<DenseNetFixture>
{
    [Fact]
    public void EfficientNetB0_StateDict_HasExactlyTimmsKeysAndShapes()
    {
        var expected = TimmReference.ReadKeys("timm_efficientnet_b0_keys.txt");
        var actual = efficientNets.B0.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        actual.Should().HaveCount(358).And.BeEquivalentTo(expected);
    }

    [Fact]
    public void DenseNet121_StateDict_HasExactlyTimmsKeysAndShapes()
    {
        var expected = TimmReference.ReadKeys("timm_densenet121_keys.txt");
        var actual = denseNets.Net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        actual.Should().HaveCount(725).And.BeEquivalentTo(expected);
    }

    [Fact]
    public void EfficientNet_WithTimmWeights_ReproducesTimmsFeaturesAndStages()
    {
        using var scope = NewDisposeScope();
        var reference = TimmReference.ReadTensors("timm_efficientnet_w025_d11.tensors");
        // Width 0.25, depth 1.1 and drop path 0.2, as the fixture's timm model; drop path must vanish in eval mode.
        var net = new EfficientNet(0.25, 1.1, dropPathRate: 0.2);
        net.StageDepths.Should().Equal(2, 3, 3, 4, 4, 5, 2);
        TimmReference.LoadStateDict(net, reference);
        net.eval();
        var names = net.Stages.Select(s => s.Name).ToArray();
        // One pass: the last stage's map is forward's output (a Backbone invariant tested with SmallCnn).
        var maps = net.ForwardStages(reference["input"], names);
        maps[^1].allclose(reference["output"], rtol: 1e-3, atol: 1e-4).Should().BeTrue("forward_features");
        for (int i = 0; i < names.Length; i++)
        {
            var expected = reference[$"stage.{names[i]}"];
            maps[i].shape.Should().Equal(expected.shape, names[i]);
            maps[i].allclose(expected, rtol: 1e-3, atol: 1e-4).Should().BeTrue(names[i]);
        }
    }

    [Fact]
    public void DenseNet_WithTimmWeights_ReproducesTimmsFeaturesAndStages()
    {
        using var scope = NewDisposeScope();
        var reference = TimmReference.ReadTensors("timm_densenet_g8_b232.tensors");
        var net = new DenseNet(growthRate: 8, blockConfig: [2, 3, 2], initialFeatures: 16, bottleneckFactor: 2);
        TimmReference.LoadStateDict(net, reference);
        net.eval();
        var names = net.Stages.Select(s => s.Name).ToArray();
        names.Should().Equal("norm0", "denseblock1", "denseblock2", "norm5");
        var maps = net.ForwardStages(reference["input"], names);
        maps[^1].allclose(reference["output"], rtol: 1e-3, atol: 1e-4).Should().BeTrue("forward_features");
        for (int i = 0; i < names.Length; i++)
            maps[i].allclose(reference[$"stage.{names[i]}"], rtol: 1e-3, atol: 1e-4).Should().BeTrue(names[i]);
    }
}
