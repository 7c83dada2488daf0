using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Stochastic depth per sample (Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016; timm's <c>DropPath</c>): in
/// training mode each sample's residual branch is zeroed with probability <see cref="Rate"/> and the kept ones are scaled by
/// 1 / (1 − rate), so the expected output is unchanged; in evaluation mode, or at rate 0, the input passes through untouched.
/// It has no parameters, so it does not change a network's state-dict names.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">Probability of dropping a sample's branch, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">rate is outside [0, 1) or NaN.</exception>
    public DropPath(double rate) : base(nameof(DropPath))
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The drop-path rate must lie in [0, 1).");
        Rate = rate;
    }

    /// <summary>Probability of dropping a sample's branch while training.</summary>
    public double Rate { get; }

    /// <summary>Drops whole samples of <paramref name="input"/> (first dimension) while training; identity otherwise.</summary>
    /// <param name="input">A batch whose first dimension indexes samples.</param>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!training || Rate == 0)
            return input;
        double keep = 1 - Rate;
        var shape = new long[input.dim()];
        Array.Fill(shape, 1L);
        shape[0] = input.shape[0];
        using var mask = empty(shape, input.dtype, input.device).bernoulli_(keep).div_(keep);
        return input * mask;
    }
}
