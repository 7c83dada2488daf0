using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>B0-B3 built once for the whole test class: construction dominates the cost of the checks that need all four.</summary>
public sealed class EfficientNetFixture : IDisposable
{
    public EfficientNetFixture()
    {
        B0 = EfficientNet.B0(new BackboneOptions { Seed = 1 });
        B1 = EfficientNet.B1(new BackboneOptions { Seed = 1 });
        B2 = EfficientNet.B2(new BackboneOptions { Seed = 1 });
        B3 = EfficientNet.B3(new BackboneOptions { Seed = 1 });
        foreach (var net in All)
            net.eval();
    }

    public EfficientNet B0 { get; }
    public EfficientNet B1 { get; }
    public EfficientNet B2 { get; }
    public EfficientNet B3 { get; }

    public IReadOnlyList<EfficientNet> All => [B0, B1, B2, B3];

    public void Dispose()
    {
        foreach (var net in All)
            net.Dispose();
    }
}
