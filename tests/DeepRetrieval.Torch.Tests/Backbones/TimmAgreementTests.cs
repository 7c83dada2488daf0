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
        TimmReference.ShouldReproduceStages(net, reference, rtol: 1e-3, atol: 1e-4);
    }

    [Fact]
    public void DenseNet_WithTimmWeights_ReproducesTimmsFeaturesAndStages()
    {
        using var scope = NewDisposeScope();
        var reference = TimmReference.ReadTensors("timm_densenet_g8_b232.tensors");
        var net = new DenseNet(growthRate: 8, blockConfig: [2, 3, 2], initialFeatures: 16, bottleneckFactor: 2);
        net.Stages.Select(s => s.Name).Should().Equal("norm0", "denseblock1", "denseblock2", "norm5");
        TimmReference.ShouldReproduceStages(net, reference, rtol: 1e-3, atol: 1e-4);
    }
}
