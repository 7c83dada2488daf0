using DeepRetrieval.Torch.Weights;
using TorchSharp;
using static TorchSharp.torch;
using TorchVisionResNetModel = TorchSharp.Modules.ResNet;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// torchvision's ResNet family (ResNet, ResNeXt, Wide ResNet) as a <see cref="Backbone"/>: the network of TorchVision .NET's
/// <c>Modules.ResNet</c> without <c>avgpool</c> and <c>fc</c>, returning the <c>layer4</c> map (stride 32). Its children
/// are registered under torchvision's own names (<c>conv1</c>, <c>bn1</c>, <c>layer1</c> ... <c>layer4</c>), so a torchvision
/// state dict without <c>fc.weight</c> and <c>fc.bias</c> loads unchanged. Stages: <c>stem</c> (conv1, bn1, relu, maxpool;
/// 64 channels, stride 4) and <c>layer1</c> ... <c>layer4</c> (strides 4, 8, 16, 32), as timm's <c>features_only</c>.
/// ResNeXt-101 and Wide ResNet are built from TorchVision's ResNet-50/101 constructors with torchvision's
/// <c>groups</c> and <c>width_per_group</c>, because TorchVision .NET 0.107's <c>resnext101_*</c> helpers build a 50-layer network.
/// </summary>
public sealed class TorchVisionResNet : Backbone
{
    private static readonly ArchitectureSpec[] Table =
    [
        // torchvision's IMAGENET1K_V1 files (what pretrained=True loads); the hex after the dash is the SHA-256 prefix.
        new("resnet18", 1, "resnet18-f37072fd", () => TorchVisionResNetModel.ResNet18(1)),
        new("resnet34", 1, "resnet34-b627a593", () => TorchVisionResNetModel.ResNet34(1)),
        new("resnet50", 4, "resnet50-0676ba61", () => TorchVisionResNetModel.ResNet50(1)),
        new("resnet101", 4, "resnet101-63fe2227", () => TorchVisionResNetModel.ResNet101(1)),
        new("resnet152", 4, "resnet152-394f9c45", () => TorchVisionResNetModel.ResNet152(1)),
        new("resnext50_32x4d", 4, "resnext50_32x4d-7cdf4587", () => TorchVisionResNetModel.ResNet50(1, groups: 32, width_per_group: 4)),
        new("resnext101_32x8d", 4, "resnext101_32x8d-8ba56ff5", () => TorchVisionResNetModel.ResNet101(1, groups: 32, width_per_group: 8)),
        new("resnext101_64x4d", 4, "resnext101_64x4d-173b62eb", () => TorchVisionResNetModel.ResNet101(1, groups: 64, width_per_group: 4)),
        new("wide_resnet50_2", 4, "wide_resnet50_2-95faca4d", () => TorchVisionResNetModel.ResNet50(1, width_per_group: 128)),
        new("wide_resnet101_2", 4, "wide_resnet101_2-32ee1156", () => TorchVisionResNetModel.ResNet101(1, width_per_group: 128)),
    ];

    // The classifier end of torchvision's ResNet; everything else is the backbone.
    private static readonly HashSet<string> ClassifierChildren = ["avgpool", "flatten", "fc"];

    /// <summary>Builds the network with torchvision's initialisation (Kaiming normal convolutions, unit batch norms).</summary>
    /// <param name="architecture">One of <see cref="Architectures"/>, e.g. <c>resnet50</c> or <c>resnext50_32x4d</c>.</param>
    /// <param name="inputChannels">Channels of the input images; other than 3 rebuilds <c>conv1</c> for that many channels.</param>
    /// <exception cref="ArgumentException">The architecture is unknown; the message lists the known ones.</exception>
    /// <exception cref="ArgumentOutOfRangeException">inputChannels is not positive.</exception>
    public TorchVisionResNet(string architecture, int inputChannels = 3) : base(architecture ?? nameof(TorchVisionResNet))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        var spec = Table.FirstOrDefault(a => string.Equals(a.Name, architecture, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown ResNet architecture '{architecture}'; known: {string.Join(", ", Architectures)}.", nameof(architecture));
        Architecture = spec.Name;
        InputChannels = inputChannels;

        var model = spec.Build();
        var children = new Dictionary<string, nn.Module<Tensor, Tensor>>();
        foreach (var (name, child) in model.named_children())
        {
            if (ClassifierChildren.Contains(name))
            {
                child.Dispose();
                continue;
            }
            var module = (nn.Module<Tensor, Tensor>)child;
            if (name == "conv1" && inputChannels != 3)
            {
                child.Dispose();
                module = TorchVisionLayers.KaimingConv(inputChannels, 64, 7, stride: 2, padding: 3, bias: false);
            }
            children[name] = module;
            register_module(name, module);
        }

        int expansion = spec.Expansion;
        AddStage(new BackboneStage("stem", 64, 4), children["conv1"], children["bn1"], children["relu"], children["maxpool"]);
        AddStage(new BackboneStage("layer1", 64 * expansion, 4), children["layer1"]);
        AddStage(new BackboneStage("layer2", 128 * expansion, 8), children["layer2"]);
        AddStage(new BackboneStage("layer3", 256 * expansion, 16), children["layer3"]);
        AddStage(new BackboneStage("layer4", 512 * expansion, 32), children["layer4"]);
    }

    /// <summary>The architectures this class builds, in registry spelling.</summary>
    public static IReadOnlyList<string> Architectures { get; } = Table.Select(a => a.Name).ToArray();

    /// <summary>The architecture this instance was built as.</summary>
    public string Architecture { get; }

    /// <summary>Channels of the images the first convolution takes.</summary>
    public int InputChannels { get; }

    /// <inheritdoc/>
    protected override int? ExpectedInputChannels => InputChannels;

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations() =>
        Table.Select(a => (
            new BackboneInfo(a.Name, 512 * a.Expansion, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd)
            {
                Pretrained = PretrainedConfig.TorchVision(a.WeightFile),
            },
            (Func<BackboneOptions, Backbone>)(o => new TorchVisionResNet(a.Name, o.InputChannels))));

    private sealed record ArchitectureSpec(string Name, int Expansion, string WeightFile, Func<TorchVisionResNetModel> Build);
}
