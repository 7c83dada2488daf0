using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// EfficientNet (Tan and Le, ICML 2019) as timm builds <c>efficientnet_b0</c> ... <c>efficientnet_b3</c>, with timm's module
/// names so a timm state dict (minus <c>classifier.*</c>) loads unchanged: stem <c>conv_stem</c>/<c>bn1</c>, blocks
/// <c>blocks.S.B</c> (stage 0 <c>conv_dw/bn1/se/conv_pw/bn2</c>, the others MBConv <c>conv_pw/bn1/conv_dw/bn2/se/conv_pwl/bn3</c>,
/// squeeze-excitation <c>se.conv_reduce/conv_expand</c>), head <c>conv_head</c>/<c>bn2</c>. SiLU activations, batch norm with
/// PyTorch's eps 1e-5 and momentum 0.1 (timm's PyTorch-native weights, not the <c>tf_</c> ports with eps 1e-3), symmetric
/// padding (not TensorFlow "same"), drop path growing linearly from 0 at the first block to the rate at the last.
/// The width multiplier scales channels through <see cref="RoundChannels"/>, the depth multiplier scales each stage's block
/// count through <see cref="RoundRepeats"/>. The output is the map after <c>conv_head</c>/<c>bn2</c>/SiLU, before pooling:
/// 1280 × 7 × 7 for B0 at 224. Stages (timm <c>feature_info</c>): <c>blocks.0</c> (stride 2, includes the stem),
/// <c>blocks.1</c> (4), <c>blocks.2</c> (8), <c>blocks.4</c> (16, runs stages 3 and 4), <c>blocks.6</c> (32, runs stages 5 and
/// 6 and the head, so its channels are the head's).
/// </summary>
public sealed class EfficientNet : Backbone
{
    // timm's _gen_efficientnet arch_def: type, repeats, kernel, stride, expansion, output channels (all with SE ratio 0.25).
    private static readonly (bool DepthwiseSeparable, int Repeats, int Kernel, int Stride, int Expansion, int Channels)[] Arch =
    [
        (true, 1, 3, 1, 1, 16),
        (false, 2, 3, 2, 6, 24),
        (false, 2, 5, 2, 6, 40),
        (false, 3, 3, 2, 6, 80),
        (false, 3, 5, 1, 6, 112),
        (false, 4, 5, 2, 6, 192),
        (false, 1, 3, 1, 6, 320),
    ];

    private readonly Conv2d conv_stem;
    private readonly BatchNorm2d bn1;
    private readonly SiLU act1;
    private readonly Sequential blocks;
    private readonly Conv2d conv_head;
    private readonly BatchNorm2d bn2;
    private readonly SiLU act2;

    /// <summary>Builds an EfficientNet with timm's TensorFlow-style initialisation (convolutions from N(0, 2 / fan_out)).</summary>
    /// <param name="widthMultiplier">Channel multiplier (B0 1.0, B1 1.0, B2 1.1, B3 1.2).</param>
    /// <param name="depthMultiplier">Block-count multiplier (B0 1.0, B1 1.1, B2 1.2, B3 1.4).</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    /// <param name="dropPathRate">Drop-path rate of the last block; block i of n gets rate · i / n. timm trains with 0.2.</param>
    /// <exception cref="ArgumentOutOfRangeException">A multiplier is not positive and finite, inputChannels is not positive,
    /// or dropPathRate is outside [0, 1).</exception>
    public EfficientNet(double widthMultiplier = 1.0, double depthMultiplier = 1.0, int inputChannels = 3, double dropPathRate = 0)
        : base(nameof(EfficientNet))
    {
        CheckMultiplier(widthMultiplier, nameof(widthMultiplier));
        CheckMultiplier(depthMultiplier, nameof(depthMultiplier));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        if (!(dropPathRate >= 0 && dropPathRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropPathRate), dropPathRate, "The drop-path rate must be in [0, 1).");
        WidthMultiplier = widthMultiplier;
        DepthMultiplier = depthMultiplier;
        InputChannels = inputChannels;
        DropPathRate = dropPathRate;

        int stem = RoundChannels(32, widthMultiplier);
        conv_stem = EfficientNetBlock.Conv(inputChannels, stem, 3, stride: 2);
        bn1 = nn.BatchNorm2d(stem);
        act1 = nn.SiLU();

        int[] depths = Arch.Select(a => RoundRepeats(a.Repeats, depthMultiplier)).ToArray();
        int totalBlocks = depths.Sum();
        int blockIndex = 0;
        int channels = stem;
        var stageChannels = new int[Arch.Length];
        var stages = new Sequential[Arch.Length];
        for (int s = 0; s < Arch.Length; s++)
        {
            var a = Arch[s];
            int output = RoundChannels(a.Channels, widthMultiplier);
            var stage = new nn.Module<Tensor, Tensor>[depths[s]];
            for (int b = 0; b < depths[s]; b++)
            {
                int stride = b == 0 ? a.Stride : 1;
                double rate = dropPathRate * blockIndex++ / totalBlocks;
                stage[b] = a.DepthwiseSeparable
                    ? new DepthwiseSeparableConv(channels, output, a.Kernel, stride, rate)
                    : new InvertedResidual(channels, output, a.Kernel, stride, a.Expansion, rate);
                channels = output;
            }
            stages[s] = nn.Sequential(stage);
            stageChannels[s] = output;
        }
        blocks = nn.Sequential(stages);

        int head = RoundChannels(1280, widthMultiplier);
        conv_head = EfficientNetBlock.Conv(channels, head, 1);
        bn2 = nn.BatchNorm2d(head);
        act2 = nn.SiLU();
        RegisterComponents();

        StageDepths = depths;
        StemChannels = stem;
        AddStage(new BackboneStage("blocks.0", stageChannels[0], 2), conv_stem, bn1, act1, stages[0]);
        AddStage(new BackboneStage("blocks.1", stageChannels[1], 4), stages[1]);
        AddStage(new BackboneStage("blocks.2", stageChannels[2], 8), stages[2]);
        AddStage(new BackboneStage("blocks.4", stageChannels[4], 16), stages[3], stages[4]);
        AddStage(new BackboneStage("blocks.6", head, 32), stages[5], stages[6], conv_head, bn2, act2);
    }

    /// <summary>Channel multiplier the network was built with.</summary>
    public double WidthMultiplier { get; }

    /// <summary>Depth multiplier the network was built with.</summary>
    public double DepthMultiplier { get; }

    /// <summary>Channels of the input images.</summary>
    public int InputChannels { get; }

    /// <summary>Drop-path rate of the last block.</summary>
    public double DropPathRate { get; }

    /// <summary>Channels of the stem convolution (32 scaled by the width multiplier).</summary>
    public int StemChannels { get; }

    /// <summary>Blocks in each of the seven stages <c>blocks.0</c> ... <c>blocks.6</c> (B0: 1, 2, 2, 3, 3, 4, 1).</summary>
    public IReadOnlyList<int> StageDepths { get; }

    /// <summary>EfficientNet-B0 (width 1.0, depth 1.0, designed for 224 × 224): 1280 output channels, 4,007,548 parameters without the classifier.</summary>
    /// <param name="options">Input channels, seed and drop-path rate; null for the defaults.</param>
    public static EfficientNet B0(BackboneOptions? options = null) => Create(1.0, 1.0, options);

    /// <summary>EfficientNet-B1 (width 1.0, depth 1.1, 240 × 240): 1280 output channels.</summary>
    /// <param name="options">Input channels, seed and drop-path rate; null for the defaults.</param>
    public static EfficientNet B1(BackboneOptions? options = null) => Create(1.0, 1.1, options);

    /// <summary>EfficientNet-B2 (width 1.1, depth 1.2, 260 × 260): 1408 output channels.</summary>
    /// <param name="options">Input channels, seed and drop-path rate; null for the defaults.</param>
    public static EfficientNet B2(BackboneOptions? options = null) => Create(1.1, 1.2, options);

    /// <summary>EfficientNet-B3 (width 1.2, depth 1.4, 300 × 300): 1536 output channels.</summary>
    /// <param name="options">Input channels, seed and drop-path rate; null for the defaults.</param>
    public static EfficientNet B3(BackboneOptions? options = null) => Create(1.2, 1.4, options);

    /// <summary>
    /// timm's <c>round_channels</c>: <paramref name="channels"/> × <paramref name="multiplier"/> rounded to the nearest multiple
    /// of <paramref name="divisor"/> (at least the divisor), one divisor more if rounding lost over 10 %. E.g. 16 × 1.2 = 19.2 → 24.
    /// </summary>
    /// <param name="channels">Channels at width 1.0.</param>
    /// <param name="multiplier">Width multiplier.</param>
    /// <param name="divisor">Channel granularity; EfficientNet uses 8.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is not positive.</exception>
    public static int RoundChannels(int channels, double multiplier, int divisor = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        CheckMultiplier(multiplier, nameof(multiplier));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(divisor);
        return ChannelRounding.MakeDivisible(channels * multiplier, divisor);
    }

    /// <summary>timm's EfficientNet depth scaling (<c>depth_trunc = 'ceil'</c>): ⌈repeats × multiplier⌉, so any multiplier above 1 adds a block to every stage.</summary>
    /// <param name="repeats">Blocks in the stage at depth 1.0.</param>
    /// <param name="depthMultiplier">Depth multiplier.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is not positive.</exception>
    public static int RoundRepeats(int repeats, double depthMultiplier)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        CheckMultiplier(depthMultiplier, nameof(depthMultiplier));
        // The product is computed in double as in Python, so 2 × 1.1 = 2.2000000000000002 rounds up to 3 just as in timm.
        return (int)Math.Ceiling(repeats * depthMultiplier);
    }

    /// <inheritdoc/>
    protected override int? ExpectedInputChannels => InputChannels;

    internal static IEnumerable<(BackboneInfo, Func<BackboneOptions, Backbone>)> Registrations()
    {
        var mean = BackboneInfo.ImageNetMean;
        var std = BackboneInfo.ImageNetStd;
        // timm's default pretrained tag per size, except efficientnet_b1, whose default ra4 weights expect mean = std = 0.5
        // (register them with BackboneRegistry.RegisterPretrained and that data configuration to use them).
        yield return (new BackboneInfo("efficientnet_b0", 1280, 32, 224, mean, std) { Pretrained = PretrainedConfig.Timm("efficientnet_b0.ra_in1k") }, o => B0(o));
        yield return (new BackboneInfo("efficientnet_b1", 1280, 32, 240, mean, std) { Pretrained = PretrainedConfig.Timm("efficientnet_b1.ft_in1k") }, o => B1(o));
        yield return (new BackboneInfo("efficientnet_b2", 1408, 32, 260, mean, std) { Pretrained = PretrainedConfig.Timm("efficientnet_b2.ra_in1k") }, o => B2(o));
        yield return (new BackboneInfo("efficientnet_b3", 1536, 32, 300, mean, std) { Pretrained = PretrainedConfig.Timm("efficientnet_b3.ra2_in1k") }, o => B3(o));
    }

    private static EfficientNet Create(double width, double depth, BackboneOptions? options)
    {
        options ??= BackboneOptions.Default;
        if (options.Seed is long seed)
            manual_seed(seed);
        return new EfficientNet(width, depth, options.InputChannels, options.DropPathRate);
    }

    private static void CheckMultiplier(double value, string name)
    {
        if (!(value > 0 && double.IsFinite(value)))
            throw new ArgumentOutOfRangeException(name, value, "A multiplier must be positive and finite.");
    }
}
