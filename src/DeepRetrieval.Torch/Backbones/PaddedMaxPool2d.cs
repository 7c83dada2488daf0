using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>A square max-pool whose padding differs between the start and the end of each spatial axis (ONNX <c>pads = [s, s, e, e]</c>).</summary>
public sealed class PaddedMaxPool2d : nn.Module<Tensor, Tensor>
{
    private readonly long[] _pads;
    private readonly long _kernel;
    private readonly long _stride;

    /// <summary>Creates the pool.</summary>
    /// <param name="kernelSize">Window height and width.</param>
    /// <param name="stride">Stride along both axes.</param>
    /// <param name="padStart">Padding before the first row and column.</param>
    /// <param name="padEnd">Padding after the last row and column.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or a padding is negative.</exception>
    public PaddedMaxPool2d(int kernelSize, int stride, int padStart, int padEnd) : base(nameof(PaddedMaxPool2d))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padStart);
        ArgumentOutOfRangeException.ThrowIfNegative(padEnd);
        _pads = [padStart, padEnd, padStart, padEnd];
        _kernel = kernelSize;
        _stride = stride;
    }

    /// <summary>Pads with −∞ (so padding never wins the maximum) and pools.</summary>
    /// <param name="input">N × C × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var padded = nn.functional.pad(input, _pads, value: double.NegativeInfinity);
        return nn.functional.max_pool2d(padded, [_kernel, _kernel], [_stride, _stride]);
    }
}
