using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's EfficientNet squeeze-and-excitation: global mean, 1 × 1 <c>conv_reduce</c> (with bias), SiLU, 1 × 1
/// <c>conv_expand</c> (with bias), sigmoid gate multiplied into the input channels.
/// </summary>
internal sealed class SqueezeExcite : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_reduce;
    private readonly Conv2d conv_expand;

    /// <param name="channels">Channels of the gated map.</param>
    /// <param name="reducedChannels">Width of the bottleneck; timm uses round(block input channels × 0.25).</param>
    public SqueezeExcite(int channels, int reducedChannels) : base(nameof(SqueezeExcite))
    {
        conv_reduce = EfficientNetBlock.Conv(channels, reducedChannels, 1, bias: true);
        conv_expand = EfficientNetBlock.Conv(reducedChannels, channels, 1, bias: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var squeezed = x.mean([2, 3], keepdim: true);
        var gate = conv_expand.forward(nn.functional.silu(conv_reduce.forward(squeezed))).sigmoid();
        return (x * gate).MoveToOuterDisposeScope();
    }
}
