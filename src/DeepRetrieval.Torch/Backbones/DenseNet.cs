using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// DenseNet (Huang et al., CVPR 2017) with torchvision's and timm's module names, so a torchvision or timm
/// <c>densenet121</c> state dict (minus <c>classifier.*</c>) loads unchanged: <c>features.conv0/norm0/relu0/pool0</c>,
/// <c>features.denseblockN.denselayerM.norm1/conv1/norm2/conv2</c>, <c>features.transitionN.norm/conv</c>,
/// <c>features.norm5</c>. The output is the map after <c>norm5</c> and ReLU, before pooling: 1024 × 7 × 7 for DenseNet-121
/// at 224. Stages (timm <c>feature_info</c>): <c>norm0</c> (stride 2, after the stem's ReLU), <c>denseblock1</c> (4),
/// <c>denseblock2</c> (8), <c>denseblock3</c> (16) — each block's output before its transition — and <c>norm5</c> (32,
/// after the last transition, block and final norm + ReLU). No dropout and no memory-efficient checkpointing.
/// </summary>
public sealed class DenseNet : Backbone
{
    private readonly Sequential features;
    private readonly ReLU relu;
    private readonly int _transitionCount;

    /// <summary>Builds a DenseNet with torchvision's initialisation (Kaiming-normal convolutions, batch norm 1 and 0).</summary>
    /// <param name="growthRate">Channels each dense layer adds (32 for DenseNet-121).</param>
    /// <param name="blockConfig">Dense layers per block (6, 12, 24, 16 for DenseNet-121); null for that.</param>
    /// <param name="initialFeatures">Channels of the stem convolution (64).</param>
    /// <param name="bottleneckFactor">Width of each layer's 1 × 1 bottleneck as a multiple of the growth rate (torchvision's <c>bn_size</c>, 4).</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    /// <exception cref="ArgumentException">blockConfig is empty or has a non-positive entry.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Another argument is not positive.</exception>
    public DenseNet(int growthRate = 32, IReadOnlyList<int>? blockConfig = null, int initialFeatures = 64, int bottleneckFactor = 4, int inputChannels = 3)
        : base(nameof(DenseNet))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(growthRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bottleneckFactor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        blockConfig ??= [6, 12, 24, 16];
        if (blockConfig.Count == 0 || blockConfig.Any(n => n <= 0))
            throw new ArgumentException("A DenseNet needs at least one block, each with a positive number of layers.", nameof(blockConfig));
        GrowthRate = growthRate;
        BlockConfig = blockConfig.ToArray();
        InputChannels = inputChannels;

        var conv0 = nn.Conv2d(inputChannels, initialFeatures, 7, stride: 2, padding: 3, bias: false);
        var norm0 = nn.BatchNorm2d(initialFeatures);
        var relu0 = nn.ReLU(inplace: true);
        var pool0 = nn.MaxPool2d(3, stride: 2, padding: 1);
        var named = new List<(string, nn.Module<Tensor, Tensor>)> { ("conv0", conv0), ("norm0", norm0), ("relu0", relu0), ("pool0", pool0) };
        var stageModules = new List<List<nn.Module<Tensor, Tensor>>> { new() { conv0, norm0, relu0 }, new() { pool0 } };
        var stageChannels = new List<int> { initialFeatures };

        int channels = initialFeatures;
        for (int i = 0; i < BlockConfig.Count; i++)
        {
            var block = new DenseBlock(BlockConfig[i], channels, growthRate, bottleneckFactor);
            named.Add(($"denseblock{i + 1}", block));
            stageModules[^1].Add(block);
            channels += BlockConfig[i] * growthRate;
            if (i == BlockConfig.Count - 1)
                break;
            stageChannels.Add(channels);
            var transition = nn.Sequential(
                ("norm", nn.BatchNorm2d(channels)),
                ("relu", nn.ReLU(inplace: true)),
                ("conv", nn.Conv2d(channels, channels / 2, 1, bias: false)),
                ("pool", nn.AvgPool2d(2, stride: 2)));
            named.Add(($"transition{i + 1}", transition));
            stageModules.Add([transition]);
            channels /= 2;
        }
        // torchvision calls the final norm norm5 whatever the number of blocks.
        var norm5 = nn.BatchNorm2d(channels);
        named.Add(("norm5", norm5));
        features = nn.Sequential(named.ToArray());
        relu = nn.ReLU(inplace: true);
        _transitionCount = BlockConfig.Count - 1;
        RegisterComponents();
        InitialiseWeights();

        stageModules[^1].Add(norm5);
        stageModules[^1].Add(relu);
        for (int s = 0; s < stageModules.Count; s++)
        {
            bool last = s == stageModules.Count - 1;
            string name = s == 0 ? "norm0" : last ? "norm5" : $"denseblock{s}";
            int stageChannelCount = last ? channels : stageChannels[s];
            AddStage(new BackboneStage(name, stageChannelCount, 2 << s), stageModules[s].ToArray());
        }
    }

    /// <summary>Channels each dense layer adds.</summary>
    public int GrowthRate { get; }

    /// <summary>Dense layers per block.</summary>
    public IReadOnlyList<int> BlockConfig { get; }

    /// <summary>Channels of the input images.</summary>
    public int InputChannels { get; }

    /// <summary>
    /// Smallest square input the network accepts: every transition halves the map with a 2 × 2 average pool, which needs at
    /// least one output pixel (29 for DenseNet-121, giving a 1 × 1 output map).
    /// </summary>
    public int MinimumInputSize
    {
        get
        {
            for (int size = 1; ; size++)
            {
                if (OutputSize(size) >= 1)
                    return size;
            }
        }
    }

    /// <summary>DenseNet-121 (growth 32, blocks 6, 12, 24, 16, 64 stem channels, bottleneck 4): 1024 output channels, 6,953,856 parameters without the classifier.</summary>
    /// <param name="options">Input channels and seed; null for the defaults.</param>
    public static DenseNet DenseNet121(BackboneOptions? options = null)
    {
        options ??= BackboneOptions.Default;
        if (options.Seed is long seed)
            manual_seed(seed);
        return new DenseNet(inputChannels: options.InputChannels);
    }

    /// <inheritdoc/>
    protected override int? ExpectedInputChannels => InputChannels;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The images are smaller than <see cref="MinimumInputSize"/>.</exception>
    protected override void CheckInputSize(Tensor images)
    {
        if (OutputSize(images.shape[2]) < 1 || OutputSize(images.shape[3]) < 1)
            throw new ArgumentException($"{GetName()} needs images of at least {MinimumInputSize} × {MinimumInputSize} pixels; got {images.shape[2]} × {images.shape[3]}.", nameof(images));
    }

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations()
    {
        yield return (new BackboneInfo("densenet121", 1024, 32, 224, BackboneInfo.ImageNetMean, BackboneInfo.ImageNetStd) { Pretrained = PretrainedConfig.Timm("densenet121.ra_in1k") },
            o => DenseNet121(o));
    }

    // Spatial size after the stem (7 × 7 stride-2 convolution, 3 × 3 stride-2 max pool) and every 2 × 2 transition pool.
    private int OutputSize(long size)
    {
        size = (size + 2 * 3 - 7) / 2 + 1;
        size = (size + 2 * 1 - 3) / 2 + 1;
        for (int i = 0; i < _transitionCount; i++)
            size /= 2;
        return (int)size;
    }

    private void InitialiseWeights()
    {
        using var guard = no_grad();
        foreach (var module in modules())
        {
            if (module is Conv2d conv)
                nn.init.kaiming_normal_(conv.weight!);
        }
    }
}
