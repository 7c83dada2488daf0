using DeepRetrieval.Torch.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// torchvision's VGG 11/13/16/19, with or without batch norm, as a <see cref="Backbone"/>: the <c>features</c> sequence
/// only, laid out exactly as torchvision's (3 × 3 convolutions with bias, optional batch norm, ReLU, 2 × 2 max-pools), so
/// a torchvision state dict without its <c>classifier.*</c> keys loads unchanged. The sequence is built here rather than
/// cut from TorchVision .NET's <c>VGG</c>, whose 120-million-parameter classifier would be allocated and initialised only
/// to be thrown away. Stages follow timm's <c>features_only</c>: one per resolution, each ending at the layer before a
/// max-pool (<c>features.3</c>, <c>features.8</c>, ... for VGG-16; strides 1, 2, 4, 8, 16), plus the final max-pool as
/// the last stage (stride 32), so <see cref="Backbone.forward"/> returns what torchvision's <c>features</c> returns.
/// </summary>
public sealed class TorchVisionVgg : Backbone
{
    private const int Pool = 0;

    private static readonly Dictionary<string, int[]> Configurations = new(StringComparer.OrdinalIgnoreCase)
    {
        ["vgg11"] = [64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        ["vgg13"] = [64, 64, Pool, 128, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        ["vgg16"] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512, Pool],
        ["vgg19"] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512, 512, 512, Pool],
    };

    /// <summary>Builds the network with torchvision's initialisation (Kaiming normal convolutions with zero bias, unit batch norms).</summary>
    /// <param name="architecture">One of <see cref="Architectures"/>: <c>vgg11</c> ... <c>vgg19</c>, or with <c>_bn</c> for batch norm.</param>
    /// <param name="inputChannels">Channels of the input images; other than 3 builds the first convolution for that many channels.</param>
    /// <exception cref="ArgumentException">The architecture is unknown; the message lists the known ones.</exception>
    /// <exception cref="ArgumentOutOfRangeException">inputChannels is not positive.</exception>
    public TorchVisionVgg(string architecture, int inputChannels = 3) : base(architecture ?? nameof(TorchVisionVgg))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        bool batchNorm = architecture.EndsWith("_bn", StringComparison.OrdinalIgnoreCase);
        string depth = batchNorm ? architecture[..^3] : architecture;
        if (!Configurations.TryGetValue(depth, out var configuration))
            throw new ArgumentException($"Unknown VGG architecture '{architecture}'; known: {string.Join(", ", Architectures)}.", nameof(architecture));
        Architecture = architecture.ToLowerInvariant();
        InputChannels = inputChannels;
        HasBatchNorm = batchNorm;

        var layers = new List<FeatureLayer>();
        int channels = inputChannels, stride = 1;
        foreach (int width in configuration)
        {
            if (width == Pool)
            {
                stride *= 2;
                layers.Add(new FeatureLayer(nn.MaxPool2d(2, 2), channels, stride));
                continue;
            }
            layers.Add(new FeatureLayer(TorchVisionLayers.KaimingConv(channels, width, 3, padding: 1), width, stride));
            if (batchNorm)
                layers.Add(new FeatureLayer(nn.BatchNorm2d(width), width, stride));
            layers.Add(new FeatureLayer(nn.ReLU(inplace: true), width, stride));
            channels = width;
        }
        register_module("features", nn.Sequential(layers.Select(l => l.Module)));
        foreach (var (stage, modules) in TorchVisionLayers.SplitWhereStrideDoubles(layers))
            AddStage(stage, modules);
    }

    /// <summary>The architectures this class builds, in registry spelling.</summary>
    public static IReadOnlyList<string> Architectures { get; } =
        Configurations.Keys.SelectMany(depth => new[] { depth, depth + "_bn" }).ToArray();

    /// <summary>The architecture this instance was built as.</summary>
    public string Architecture { get; }

    /// <summary>Whether every convolution is followed by batch norm (the <c>_bn</c> variants).</summary>
    public bool HasBatchNorm { get; }

    /// <summary>Channels of the images the first convolution takes.</summary>
    public int InputChannels { get; }

    /// <inheritdoc/>
    protected override int? ExpectedInputChannels => InputChannels;

    // torchvision's IMAGENET1K_V1 files; the hex after the dash is the SHA-256 prefix.
    private static readonly Dictionary<string, string> WeightFiles = new()
    {
        ["vgg11"] = "vgg11-8a719046", ["vgg11_bn"] = "vgg11_bn-6002323d", ["vgg13"] = "vgg13-19584684", ["vgg13_bn"] = "vgg13_bn-abd245e5",
        ["vgg16"] = "vgg16-397923af", ["vgg16_bn"] = "vgg16_bn-6c64b313", ["vgg19"] = "vgg19-dcbb9e9d", ["vgg19_bn"] = "vgg19_bn-c79401a0",
    };

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations() =>
        Architectures.Select(name => (
            new BackboneInfo(name, 512, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd)
            {
                Pretrained = PretrainedConfig.TorchVision(WeightFiles[name]),
            },
            (Func<BackboneOptions, Backbone>)(o => new TorchVisionVgg(name, o.InputChannels))));
}
