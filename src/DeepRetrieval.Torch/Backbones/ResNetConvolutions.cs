using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>Builds the convolutions and pools of a <see cref="ResNet"/> with the padding its <see cref="ResNetPadding"/> asks for.</summary>
internal static class ResNetConvolutions
{
    /// <summary>Start and end padding of a k-wide, s-strided window.</summary>
    public static (int Start, int End) Padding(int kernel, int stride, ResNetPadding mode)
    {
        if (mode == ResNetPadding.Symmetric || stride == 1)
            return ((kernel - 1) / 2, (kernel - 1) / 2);
        int total = Math.Max(kernel - stride, 0);
        return ((total + 1) / 2, total / 2);
    }

    /// <summary>A bias-free convolution: an <see cref="Conv2d"/> when the padding is symmetric, otherwise <see cref="PaddedConv2d"/>.</summary>
    public static nn.Module<Tensor, Tensor> Conv(int input, int output, int kernel, int stride, ResNetPadding mode, int groups = 1, bool bias = false)
    {
        var (start, end) = Padding(kernel, stride, mode);
        if (start == end)
            return nn.Conv2d(input, output, kernel, stride: stride, padding: start, groups: groups, bias: bias);
        return new PaddedConv2d(input, output, kernel, stride, start, end, groups, bias);
    }

    /// <summary>The stem's 3 × 3 stride-2 max-pool.</summary>
    public static nn.Module<Tensor, Tensor> StemMaxPool(ResNetPadding mode)
    {
        var (start, end) = Padding(3, 2, mode);
        if (start == end)
            return nn.MaxPool2d(3, stride: 2, padding: start);
        return new PaddedMaxPool2d(3, 2, start, end);
    }
}
