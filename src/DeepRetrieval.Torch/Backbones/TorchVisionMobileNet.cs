using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// torchvision's MobileNet V2 and V3 (small, large) as a <see cref="Backbone"/>: the <c>features</c> sequence including its
/// final 1 × 1 convolution (1280, 576 and 960 channels), without pooling and classifier, under torchvision's state-dict
/// names (<c>features.0.0.weight</c>, <c>features.1.conv.0.0.weight</c> for V2, <c>features.1.block.0.0.weight</c> for V3),
/// so a torchvision state dict without its <c>classifier.*</c> keys loads unchanged. V2 is TorchVision .NET's
/// <c>mobilenet_v2</c>. V3 is assembled here from TorchVision's <c>Conv2dNormActivation</c> and <c>SqueezeExcitation</c>
/// following torchvision's <c>mobilenetv3.py</c>, because TorchVision .NET 0.107's V3 puts ReLU6 where torchvision's
/// squeeze-excitation has ReLU, which changes the outputs of pretrained weights. Stages are cut where the stride doubles
/// (timm's <c>feature_info</c>) and named after their last layer, e.g. <c>features.1</c>, <c>features.3</c>,
/// <c>features.6</c>, <c>features.13</c>, <c>features.18</c> for V2 (strides 2 to 32).
/// </summary>
public sealed class TorchVisionMobileNet : Backbone
{
    // torchvision's mobilenet_v2 inverted_residual_setting: expansion t, channels c, repeats n, first stride s.
    private static readonly int[][] V2Setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];

    // torchvision's _mobilenet_v3_conf: input, kernel, expanded, output, squeeze-excitation, hard-swish, stride.
    private static readonly V3Block[] V3Large =
    [
        new(16, 3, 16, 16, false, false, 1), new(16, 3, 64, 24, false, false, 2), new(24, 3, 72, 24, false, false, 1),
        new(24, 5, 72, 40, true, false, 2), new(40, 5, 120, 40, true, false, 1), new(40, 5, 120, 40, true, false, 1),
        new(40, 3, 240, 80, false, true, 2), new(80, 3, 200, 80, false, true, 1), new(80, 3, 184, 80, false, true, 1),
        new(80, 3, 184, 80, false, true, 1), new(80, 3, 480, 112, true, true, 1), new(112, 3, 672, 112, true, true, 1),
        new(112, 5, 672, 160, true, true, 2), new(160, 5, 960, 160, true, true, 1), new(160, 5, 960, 160, true, true, 1),
    ];

    private static readonly V3Block[] V3Small =
    [
        new(16, 3, 16, 16, true, false, 2), new(16, 3, 72, 24, false, false, 2), new(24, 3, 88, 24, false, false, 1),
        new(24, 5, 96, 40, true, true, 2), new(40, 5, 240, 40, true, true, 1), new(40, 5, 240, 40, true, true, 1),
        new(40, 5, 120, 48, true, true, 1), new(48, 5, 144, 48, true, true, 1), new(48, 5, 288, 96, true, true, 2),
        new(96, 5, 576, 96, true, true, 1), new(96, 5, 576, 96, true, true, 1),
    ];

    // With torchvision's IMAGENET1K_V1 files; the hex after the dash is the SHA-256 prefix.
    private static readonly (string Name, int OutputChannels, string WeightFile)[] Table =
    [
        ("mobilenet_v2", 1280, "mobilenet_v2-b0353104"),
        ("mobilenet_v3_small", 576, "mobilenet_v3_small-047dcff4"),
        ("mobilenet_v3_large", 960, "mobilenet_v3_large-8738ca79"),
    ];

    /// <summary>Builds the network with torchvision's initialisation (Kaiming normal fan-out convolutions, unit batch norms).</summary>
    /// <param name="architecture">One of <see cref="Architectures"/>: <c>mobilenet_v2</c>, <c>mobilenet_v3_small</c>, <c>mobilenet_v3_large</c>.</param>
    /// <param name="inputChannels">Channels of the input images; other than 3 builds the first convolution for that many channels.</param>
    /// <exception cref="ArgumentException">The architecture is unknown; the message lists the known ones.</exception>
    /// <exception cref="ArgumentOutOfRangeException">inputChannels is not positive.</exception>
    public TorchVisionMobileNet(string architecture, int inputChannels = 3) : base(architecture ?? nameof(TorchVisionMobileNet))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        Architecture = Table.Select(a => a.Name).FirstOrDefault(n => string.Equals(n, architecture, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown MobileNet architecture '{architecture}'; known: {string.Join(", ", Architectures)}.", nameof(architecture));
        InputChannels = inputChannels;
        var layers = Architecture switch
        {
            "mobilenet_v2" => BuildV2(inputChannels),
            "mobilenet_v3_small" => BuildV3(V3Small, inputChannels),
            _ => BuildV3(V3Large, inputChannels),
        };
        register_module("features", nn.Sequential(layers.Select((l, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), l.Module)).ToArray()));
        foreach (var (stage, modules) in TorchVisionLayers.SplitWhereStrideDoubles(layers))
            AddStage(stage, modules);
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
            new BackboneInfo(a.Name, a.OutputChannels, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd)
            {
                Pretrained = PretrainedConfig.TorchVision(a.WeightFile),
            },
            (Func<BackboneOptions, Backbone>)(o => new TorchVisionMobileNet(a.Name, o.InputChannels))));

    private static List<FeatureLayer> BuildV2(int inputChannels)
    {
        var model = torchvision.models.mobilenet_v2(num_classes: 1);
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        children["classifier"].Dispose();
        var features = children["features"].named_children().Select(c => (nn.Module<Tensor, Tensor>)c.module).ToList();
        if (inputChannels != 3)
            features[0] = ReplaceFirstConvolution((Sequential)features[0], TorchVisionLayers.KaimingConv(inputChannels, 32, 3, stride: 2, padding: 1, bias: false));

        var layers = new List<FeatureLayer> { new(features[0], 32, 2) };
        int stride = 2;
        foreach (var setting in V2Setting)
        {
            for (int i = 0; i < setting[2]; i++)
            {
                if (i == 0)
                    stride *= setting[3];
                layers.Add(new FeatureLayer(features[layers.Count], setting[1], stride));
            }
        }
        layers.Add(new FeatureLayer(features[layers.Count], 1280, stride));
        return layers;
    }

    private static Sequential ReplaceFirstConvolution(Sequential convNormActivation, nn.Module<Tensor, Tensor> convolution)
    {
        var parts = convNormActivation.named_children().Select(c => (c.name, (nn.Module<Tensor, Tensor>)c.module)).ToArray();
        parts[0].Item2.Dispose();
        parts[0] = (parts[0].name, convolution);
        return nn.Sequential(parts);
    }

    private static List<FeatureLayer> BuildV3(V3Block[] blocks, int inputChannels)
    {
        static nn.Module<Tensor, Tensor> Norm(long channels) => nn.BatchNorm2d(channels, eps: 0.001, momentum: 0.01);
        static nn.Module<Tensor, Tensor> HardSwish(bool inplace) => nn.Hardswish(inplace);

        int stride = 2;
        var layers = new List<FeatureLayer>
        {
            new(torchvision.ops.Conv2dNormActivation(inputChannels, blocks[0].Input, kernel_size: 3, stride: 2, norm_layer: Norm, activation_layer: HardSwish), (int)blocks[0].Input, stride),
        };
        foreach (var block in blocks)
        {
            stride *= (int)block.Stride;
            layers.Add(new FeatureLayer(new InvertedResidual(block, Norm), (int)block.Output, stride));
        }
        long last = blocks[^1].Output;
        layers.Add(new FeatureLayer(torchvision.ops.Conv2dNormActivation(last, 6 * last, kernel_size: 1, norm_layer: Norm, activation_layer: HardSwish), (int)(6 * last), stride));

        using (no_grad())
        {
            foreach (var module in layers.SelectMany(l => l.Module.modules()))
            {
                if (module is Conv2d conv)
                {
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
                    if (conv.bias is not null)
                        nn.init.zeros_(conv.bias);
                }
            }
        }
        return layers;
    }

    private sealed record V3Block(long Input, long Kernel, long Expanded, long Output, bool SqueezeExcitation, bool HardSwish, long Stride);

    // torchvision's mobilenetv3.InvertedResidual: its layers live in a Sequential named "block", as in the state dict.
    private sealed class InvertedResidual : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential block;
        private readonly bool residual;

        public InvertedResidual(V3Block config, Func<long, nn.Module<Tensor, Tensor>> norm) : base(nameof(InvertedResidual))
        {
            Func<bool, nn.Module<Tensor, Tensor>> activation = config.HardSwish ? inplace => nn.Hardswish(inplace) : inplace => nn.ReLU(inplace);
            var layers = new List<nn.Module<Tensor, Tensor>>();
            if (config.Expanded != config.Input)
                layers.Add(torchvision.ops.Conv2dNormActivation(config.Input, config.Expanded, kernel_size: 1, norm_layer: norm, activation_layer: activation));
            layers.Add(torchvision.ops.Conv2dNormActivation(config.Expanded, config.Expanded, kernel_size: config.Kernel, stride: config.Stride,
                groups: config.Expanded, norm_layer: norm, activation_layer: activation));
            if (config.SqueezeExcitation)
            {
                long squeeze = ChannelRounding.MakeDivisible(config.Expanded / 4);
                layers.Add(torchvision.ops.SqueezeExcitation(config.Expanded, squeeze, activation: () => nn.ReLU(), scale_activation: () => nn.Hardsigmoid()));
            }
            layers.Add(torchvision.ops.Conv2dNormActivation(config.Expanded, config.Output, kernel_size: 1, norm_layer: norm, activation_layer: null));
            block = nn.Sequential(layers);
            residual = config.Stride == 1 && config.Input == config.Output;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var result = block.forward(input);
            return residual ? result.add_(input) : result;
        }
    }
}
