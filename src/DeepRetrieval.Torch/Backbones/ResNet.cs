using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// A configurable ResNet (He et al. 2016) in torchvision/timm layout and naming: stem <c>conv1</c>, <c>bn1</c>, <c>relu</c>,
/// <c>maxpool</c>, then <c>layer1</c>..<c>layer4</c> of residual blocks (<c>layerX.Y.conv1/bn1/conv2/bn2/...</c>, shortcut
/// <c>layerX.0.downsample</c>), so torchvision and timm state dicts load without renaming (minus <c>fc</c>). The
/// <see cref="ResNetConfig"/> chooses the block (<see cref="ResNetBlockFactory"/>: basic, bottleneck, SE, split attention or
/// your own), blocks per stage, groups and width (ResNeXt, Wide ResNet), the deep stem and average-pool shortcuts of the
/// 'd' variants. Stages <c>stem</c> (stride 4), <c>layer1</c> (4), <c>layer2</c> (8), <c>layer3</c> (16), <c>layer4</c> (32).
/// Registered as <c>seresnet50</c> and <c>resnest50d</c>; torchvision's ResNets are registered by the TorchVision wrappers.
/// </summary>
public sealed class ResNet : Backbone
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly nn.Module<Tensor, Tensor> maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    /// <summary>Builds the network with torchvision's initialisation (Kaiming-normal convolutions, BN weight 1 and bias 0).</summary>
    /// <param name="config">The structure; null for ResNet-50.</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    /// <exception cref="ArgumentException">The config does not have four positive stage depths and plane counts, or groups/widths are not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">inputChannels is not positive.</exception>
    public ResNet(ResNetConfig? config = null, int inputChannels = 3) : base(nameof(ResNet))
    {
        config ??= new ResNetConfig();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        ArgumentNullException.ThrowIfNull(config.Block);
        if (config.Layers is null || config.Layers.Count != 4 || config.Layers.Any(n => n <= 0))
            throw new ArgumentException("A ResNet needs four positive block counts (layer1..layer4).", nameof(config));
        if (config.Channels is null || config.Channels.Count != 4 || config.Channels.Any(n => n <= 0))
            throw new ArgumentException("A ResNet needs four positive plane counts (layer1..layer4).", nameof(config));
        if (config.Groups <= 0 || config.WidthPerGroup <= 0 || config.StemWidth <= 0)
            throw new ArgumentException("Groups, width per group and stem width must be positive.", nameof(config));
        Config = config;
        int stemOutput = config.DeepStem ? 2 * config.StemWidth : 64;
        conv1 = config.DeepStem
            ? nn.Sequential(
                ResNetConvolutions.Conv(inputChannels, config.StemWidth, 3, 2, config.Padding),
                nn.BatchNorm2d(config.StemWidth),
                nn.ReLU(inplace: true),
                nn.Conv2d(config.StemWidth, config.StemWidth, 3, padding: 1, bias: false),
                nn.BatchNorm2d(config.StemWidth),
                nn.ReLU(inplace: true),
                nn.Conv2d(config.StemWidth, stemOutput, 3, padding: 1, bias: false))
            : ResNetConvolutions.Conv(inputChannels, stemOutput, 7, 2, config.Padding);
        bn1 = nn.BatchNorm2d(stemOutput);
        relu = nn.ReLU(inplace: true);
        maxpool = ResNetConvolutions.StemMaxPool(config.Padding);
        int channels = stemOutput;
        layer1 = MakeLayer(config, ref channels, config.Channels[0], config.Layers[0], 1);
        int layer1Channels = channels;
        layer2 = MakeLayer(config, ref channels, config.Channels[1], config.Layers[1], 2);
        int layer2Channels = channels;
        layer3 = MakeLayer(config, ref channels, config.Channels[2], config.Layers[2], 2);
        int layer3Channels = channels;
        layer4 = MakeLayer(config, ref channels, config.Channels[3], config.Layers[3], 2);
        RegisterComponents();
        Initialise();
        AddStage(new BackboneStage("stem", stemOutput, 4), conv1, bn1, relu, maxpool);
        AddStage(new BackboneStage("layer1", layer1Channels, 4), layer1);
        AddStage(new BackboneStage("layer2", layer2Channels, 8), layer2);
        AddStage(new BackboneStage("layer3", layer3Channels, 16), layer3);
        AddStage(new BackboneStage("layer4", channels, 32), layer4);
    }

    /// <summary>The structure the network was built with.</summary>
    public ResNetConfig Config { get; }

    /// <summary>SE-ResNet-50 (timm <c>seresnet50</c>).</summary>
    /// <param name="inputChannels">Channels of the input images.</param>
    public static ResNet SEResNet50(int inputChannels = 3) =>
        new(new ResNetConfig { Block = ResNetBlockFactory.SqueezeExcitationBottleneck(16) }, inputChannels);

    /// <summary>ResNeSt-50d (timm <c>resnest50d</c>: radix 2, cardinality 1, width 64, deep stem 32-32-64, average-pool shortcuts).</summary>
    /// <param name="inputChannels">Channels of the input images.</param>
    public static ResNet ResNeSt50d(int inputChannels = 3) =>
        new(new ResNetConfig { Block = ResNetBlockFactory.SplitAttentionBottleneck(2), DeepStem = true, StemWidth = 32, AvgDown = true }, inputChannels);

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations()
    {
        // timm's default pretrained tags (the first tag with weights in default_cfgs).
        yield return (new BackboneInfo("seresnet50", 2048, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd) { Pretrained = PretrainedConfig.Timm("seresnet50.a1_in1k") },
            o => SEResNet50(o.InputChannels));
        yield return (new BackboneInfo("resnest50d", 2048, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd) { Pretrained = PretrainedConfig.Timm("resnest50d.in1k") },
            o => ResNeSt50d(o.InputChannels));
    }

    private static Sequential MakeLayer(ResNetConfig config, ref int channels, int planes, int blocks, int stride)
    {
        int output = planes * config.Block.Expansion;
        nn.Module<Tensor, Tensor>? downsample = null;
        if (stride != 1 || channels != output)
        {
            downsample = config.AvgDown
                ? nn.Sequential(
                    stride == 1 ? nn.Identity() : nn.AvgPool2d(2, stride, ceil_mode: true, count_include_pad: false),
                    nn.Conv2d(channels, output, 1, bias: false),
                    nn.BatchNorm2d(output))
                : nn.Sequential(
                    nn.Conv2d(channels, output, 1, stride: stride, bias: false),
                    nn.BatchNorm2d(output));
        }
        var modules = new List<nn.Module<Tensor, Tensor>>(blocks);
        for (int i = 0; i < blocks; i++)
        {
            modules.Add(config.Block.Create(new ResNetBlockSpec(
                channels, planes, i == 0 ? stride : 1, i == 0 ? downsample : null, config.Groups, config.WidthPerGroup, config.Padding)));
            channels = output;
        }
        return nn.Sequential(modules);
    }

    private void Initialise()
    {
        using var noGrad = no_grad();
        foreach (var parameter in parameters())
        {
            if (parameter.dim() == 4)
                nn.init.kaiming_normal_(parameter, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        }
        foreach (var norm in modules().OfType<BatchNorm2d>())
        {
            nn.init.ones_(norm.weight!);
            nn.init.zeros_(norm.bias!);
        }
    }
}
