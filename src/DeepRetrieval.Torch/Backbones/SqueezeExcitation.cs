using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Squeeze-and-excitation (Hu et al. 2018; timm's <c>SEModule</c>): x · sigmoid(fc2(relu(fc1(mean_hw(x))))), with 1 × 1
/// convolutions <c>fc1</c> (channels → reduced, bias) and <c>fc2</c> (reduced → channels, bias). The reduced width is
/// channels / reduction rounded to a multiple of 8 (at least 8), as timm's <c>make_divisible</c>.
/// </summary>
public sealed class SqueezeExcitation : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d fc1;
    private readonly Conv2d fc2;

    /// <summary>Creates the module.</summary>
    /// <param name="channels">Channels of the input map.</param>
    /// <param name="reduction">Channel reduction of the bottleneck (16 in SE-ResNet).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is not positive.</exception>
    public SqueezeExcitation(int channels, int reduction = 16) : base(nameof(SqueezeExcitation))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reduction);
        ReducedChannels = MakeDivisible((double)channels / reduction, 8);
        fc1 = nn.Conv2d(channels, ReducedChannels, 1);
        fc2 = nn.Conv2d(ReducedChannels, channels, 1);
        RegisterComponents();
    }

    /// <summary>Width of the excitation bottleneck.</summary>
    public int ReducedChannels { get; }

    /// <summary>Scales each channel of the input by its gate.</summary>
    /// <param name="input">N × C × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var squeezed = input.mean([2, 3], keepdim: true);
        var gate = fc2.forward(nn.functional.relu(fc1.forward(squeezed))).sigmoid();
        return (input * gate).MoveToOuterDisposeScope();
    }

    /// <summary>timm's <c>make_divisible(v, divisor, round_limit=0)</c>: round to the nearest multiple, at least one divisor.</summary>
    internal static int MakeDivisible(double value, int divisor, int? minimum = null, double roundLimit = 0)
    {
        int min = minimum ?? divisor;
        int rounded = Math.Max(min, (int)(value + divisor / 2.0) / divisor * divisor);
        if (rounded < roundLimit * value)
            rounded += divisor;
        return rounded;
    }
}
