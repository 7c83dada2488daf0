namespace DeepRetrieval.Torch.Backbones;

/// <summary>Construction options every registered backbone understands (timm's <c>create_model</c> keyword arguments).</summary>
public sealed class BackboneOptions
{
    /// <summary>Channels of the input images; 3 unless the backbone is built for grey images. Changing it re-sizes the first layer.</summary>
    public int InputChannels { get; init; } = 3;

    /// <summary>Seed of the weight initialisation, so two builds with the same seed are identical; null keeps torch's global generator.</summary>
    public long? Seed { get; init; }

    /// <summary>Drop-path (stochastic depth) rate for backbones that have it (ViT, Swin, EfficientNet); 0 disables it.</summary>
    public double DropPathRate { get; init; }

    /// <summary>The defaults.</summary>
    public static BackboneOptions Default { get; } = new();
}
