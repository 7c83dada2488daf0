using DeepRetrieval.Torch.Backbones;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

public sealed class TorchVisionSeedTests
{
    [Theory]
    [InlineData("resnet18", "conv1.weight", "layer4.1.conv2.weight")]
    [InlineData("vgg11", "features.0.weight", "features.18.weight")]
    [InlineData("mobilenet_v2", "features.0.0.weight", "features.18.0.weight")]
    [InlineData("mobilenet_v3_small", "features.0.0.weight", "features.1.block.1.fc1.weight")]
    public void SameSeed_GivesTheSameWeights_OtherSeedOthers(string name, string firstKey, string lastKey)
    {
        using var scope = NewDisposeScope();
        var (info, factory) = TorchVisionResNet.Registrations().Concat(TorchVisionVgg.Registrations()).Concat(TorchVisionMobileNet.Registrations())
            .Single(r => r.Item1.Name == name);
        BackboneRegistry.Register(info, factory);
        using var a = BackboneRegistry.Create(name, new BackboneOptions { Seed = 7 });
        using var b = BackboneRegistry.Create(name, new BackboneOptions { Seed = 7 });
        using var c = BackboneRegistry.Create(name, new BackboneOptions { Seed = 8 });
        var sa = a.state_dict();
        var sb = b.state_dict();
        var sc = c.state_dict();
        sa.Keys.Should().OnlyContain(k => sa[k].allclose(sb[k], 0, 0));
        sa[firstKey].allclose(sc[firstKey], 0, 0).Should().BeFalse();
        sa[lastKey].allclose(sc[lastKey], 0, 0).Should().BeFalse();
    }
}
