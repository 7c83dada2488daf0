using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// A square 2-D convolution whose zero padding differs between the start and the end of each spatial axis (ONNX
/// <c>pads = [s, s, e, e]</c>), which <see cref="Conv2d"/> cannot express. Its parameters are named <c>weight</c> and
/// <c>bias</c> like <see cref="Conv2d"/>'s, so state dicts are interchangeable.
/// </summary>
public sealed class PaddedConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly long[] _pads;
    private readonly long _stride;
    private readonly long _groups;

    /// <summary>Creates the convolution with Kaiming-uniform weights (PyTorch's default for convolutions).</summary>
    /// <param name="inputChannels">Input channels.</param>
    /// <param name="outputChannels">Output channels.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="stride">Stride along both axes.</param>
    /// <param name="padStart">Zeros added before the first row and column.</param>
    /// <param name="padEnd">Zeros added after the last row and column.</param>
    /// <param name="groups">Channel groups.</param>
    /// <param name="hasBias">Whether the convolution adds a bias.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, a padding is negative, or the channels are not divisible by groups.</exception>
    public PaddedConv2d(int inputChannels, int outputChannels, int kernelSize, int stride, int padStart, int padEnd, int groups = 1, bool hasBias = false)
        : base(nameof(PaddedConv2d))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        ArgumentOutOfRangeException.ThrowIfNegative(padStart);
        ArgumentOutOfRangeException.ThrowIfNegative(padEnd);
        if (inputChannels % groups != 0 || outputChannels % groups != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"Channels {inputChannels} → {outputChannels} are not divisible into {groups} groups.");
        weight = new Parameter(empty(outputChannels, inputChannels / groups, kernelSize, kernelSize));
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        if (hasBias)
        {
            bias = new Parameter(empty(outputChannels));
            double bound = 1 / Math.Sqrt(inputChannels / groups * kernelSize * kernelSize);
            nn.init.uniform_(bias, -bound, bound);
        }
        _pads = [padStart, padEnd, padStart, padEnd];
        _stride = stride;
        _groups = groups;
        PadStart = padStart;
        PadEnd = padEnd;
        RegisterComponents();
    }

    /// <summary>Zeros added before the first row and column.</summary>
    public int PadStart { get; }

    /// <summary>Zeros added after the last row and column.</summary>
    public int PadEnd { get; }

    /// <summary>The convolution weight, output × input / groups × k × k.</summary>
    public Parameter Weight => weight;

    /// <summary>The bias, or null.</summary>
    public Parameter? Bias => bias;

    /// <summary>Pads and convolves.</summary>
    /// <param name="input">N × C × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var padded = nn.functional.pad(input, _pads);
        return nn.functional.conv2d(padded, weight, bias, strides: [_stride, _stride], groups: _groups);
    }
}
