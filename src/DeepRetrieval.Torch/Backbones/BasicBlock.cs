using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// torchvision's <c>BasicBlock</c>: 3 × 3 conv (strided) → BN → ReLU → 3 × 3 conv → BN (→ attention) + shortcut → ReLU.
/// Parameters <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>downsample</c>, optional <c>se</c>.
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly BatchNorm2d bn2;
    private readonly nn.Module<Tensor, Tensor>? se;
    private readonly nn.Module<Tensor, Tensor>? downsample;

    /// <summary>Creates the block.</summary>
    /// <param name="spec">Channels, stride and shortcut; groups must be 1 and width per group 64.</param>
    /// <param name="attention">Builds an optional channel-attention module for the output channels (registered as <c>se</c>).</param>
    /// <exception cref="ArgumentException">Groups or width per group are not the basic block's 1 and 64.</exception>
    public BasicBlock(ResNetBlockSpec spec, Func<int, nn.Module<Tensor, Tensor>>? attention = null) : base(nameof(BasicBlock))
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Groups != 1 || spec.WidthPerGroup != 64)
            throw new ArgumentException("A basic block supports only groups = 1 and width per group = 64.", nameof(spec));
        conv1 = ResNetConvolutions.Conv(spec.InputChannels, spec.Planes, 3, spec.Stride, spec.Padding);
        bn1 = nn.BatchNorm2d(spec.Planes);
        conv2 = ResNetConvolutions.Conv(spec.Planes, spec.Planes, 3, 1, spec.Padding);
        bn2 = nn.BatchNorm2d(spec.Planes);
        se = attention?.Invoke(spec.Planes);
        downsample = spec.Downsample;
        RegisterComponents();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="input">N × InputChannels × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(bn1.forward(conv1.forward(input)));
        x = bn2.forward(conv2.forward(x));
        if (se is not null)
            x = se.forward(x);
        var shortcut = downsample is null ? input : downsample.forward(input);
        return nn.functional.relu(x.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
