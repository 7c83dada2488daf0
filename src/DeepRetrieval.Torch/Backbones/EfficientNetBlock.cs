using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// What the EfficientNet blocks share: timm's symmetric convolution padding, its TensorFlow-style weight initialisation, and
/// the residual connection with drop path (stochastic depth).
/// </summary>
internal abstract class EfficientNetBlock : nn.Module<Tensor, Tensor>
{
    protected EfficientNetBlock(string name, bool hasSkip, double dropPathRate) : base(name)
    {
        HasSkip = hasSkip;
        DropPathRate = dropPathRate;
    }

    /// <summary>Whether the block adds its input to its output (stride 1 and equal input and output channels).</summary>
    public bool HasSkip { get; }

    /// <summary>Probability that the residual branch of a sample is dropped in training mode.</summary>
    public double DropPathRate { get; }

    /// <summary>The residual sum with drop path in training mode, or <paramref name="branch"/> alone when the block has no skip.</summary>
    protected Tensor Residual(Tensor branch, Tensor shortcut) => HasSkip ? DropPath(branch, DropPathRate, training) + shortcut : branch;

    /// <summary>
    /// timm's <c>drop_path</c>: in training mode each sample's branch is zeroed with probability <paramref name="rate"/> and
    /// the survivors are scaled by 1 / (1 − rate), so the expectation is unchanged; in evaluation mode it is the identity.
    /// </summary>
    internal static Tensor DropPath(Tensor branch, double rate, bool training)
    {
        if (rate == 0 || !training)
            return branch;
        double keep = 1 - rate;
        var shape = new long[branch.dim()];
        Array.Fill(shape, 1L);
        shape[0] = branch.shape[0];
        using var mask = empty(shape, branch.dtype, branch.device).bernoulli_(keep);
        mask.div_(keep);
        return branch * mask;
    }

    /// <summary>
    /// A convolution with timm's symmetric padding <c>((stride − 1) + (k − 1)) / 2</c> (not TensorFlow "same") and timm's
    /// <c>_init_weight_goog</c>: weights from N(0, 2 / fan_out) with fan_out = k² · out / groups, zero bias.
    /// </summary>
    internal static Conv2d Conv(long input, long output, long kernel, long stride = 1, long groups = 1, bool bias = false)
    {
        var conv = nn.Conv2d(input, output, kernel, stride: stride, padding: ((stride - 1) + (kernel - 1)) / 2, groups: groups, bias: bias);
        using (no_grad())
        {
            double fanOut = kernel * kernel * output / (double)groups;
            nn.init.normal_(conv.weight!, 0, Math.Sqrt(2.0 / fanOut));
            if (conv.bias is not null)
                nn.init.zeros_(conv.bias);
        }
        return conv;
    }
}
