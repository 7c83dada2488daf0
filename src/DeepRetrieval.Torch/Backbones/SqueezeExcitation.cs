using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Squeeze-and-excitation (Hu et al. 2018): <c>x · sigmoid(expand(act(reduce(mean_hw(x)))))</c> with 1 × 1 convolutions
/// (both with bias) around a narrow bottleneck. The one block serves both timm layouts:
/// <list type="bullet">
/// <item>SE-ResNet (timm's <c>SEModule</c>, the public constructor): convolutions <c>fc1</c> and <c>fc2</c>, ReLU, bottleneck
/// width channels / reduction rounded to a multiple of 8 (at least 8) as timm's <c>make_divisible</c>;</item>
/// <item>EfficientNet (timm's <c>efficientnet_blocks.SqueezeExcite</c>, <see cref="ForEfficientNet"/>): convolutions
/// <c>conv_reduce</c> and <c>conv_expand</c>, SiLU, a bottleneck width given by the block.</item>
/// </list>
/// The names are timm's, so pretrained state dicts load without renaming.
/// </summary>
public sealed class SqueezeExcitation : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _reduce;
    private readonly Conv2d _expand;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>Creates SE-ResNet's module (<c>fc1</c>, ReLU, <c>fc2</c>).</summary>
    /// <param name="channels">Channels of the input map.</param>
    /// <param name="reduction">Channel reduction of the bottleneck (16 in SE-ResNet).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is not positive.</exception>
    public SqueezeExcitation(int channels, int reduction = 16)
        : this(CheckedChannels(channels), ChannelRounding.MakeDivisible((double)channels / CheckedReduction(reduction), 8, roundLimit: 0), ("fc1", "fc2"),
            x => nn.functional.relu(x), (input, output) => nn.Conv2d(input, output, 1))
    {
    }

    private SqueezeExcitation(int channels, int reducedChannels, (string Reduce, string Expand) names, Func<Tensor, Tensor> activation,
        Func<int, int, Conv2d> convolution) : base(nameof(SqueezeExcitation))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reducedChannels);
        ReducedChannels = reducedChannels;
        _activation = activation;
        _reduce = convolution(channels, reducedChannels);
        _expand = convolution(reducedChannels, channels);
        register_module(names.Reduce, _reduce);
        register_module(names.Expand, _expand);
    }

    /// <summary>Width of the excitation bottleneck.</summary>
    public int ReducedChannels { get; }

    /// <summary>Creates EfficientNet's module (<c>conv_reduce</c>, SiLU, <c>conv_expand</c>), initialised as timm's EfficientNet.</summary>
    /// <param name="channels">Channels of the gated map.</param>
    /// <param name="reducedChannels">Width of the bottleneck; timm uses round(block input channels × 0.25).</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive.</exception>
    internal static SqueezeExcitation ForEfficientNet(int channels, int reducedChannels) =>
        new(CheckedChannels(channels), reducedChannels, ("conv_reduce", "conv_expand"), x => nn.functional.silu(x),
            (input, output) => EfficientNetBlock.Conv(input, output, 1, bias: true));

    /// <summary>Scales each channel of the input by its gate.</summary>
    /// <param name="input">N × C × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var squeezed = input.mean([2, 3], keepdim: true);
        var gate = _expand.forward(_activation(_reduce.forward(squeezed))).sigmoid();
        return (input * gate).MoveToOuterDisposeScope();
    }

    private static int CheckedChannels(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        return channels;
    }

    private static int CheckedReduction(int reduction)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reduction);
        return reduction;
    }
}
