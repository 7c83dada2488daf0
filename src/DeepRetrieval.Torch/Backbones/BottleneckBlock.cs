using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// torchvision's <c>Bottleneck</c> (stride on the 3 × 3, "ResNet v1.5"): 1 × 1 → 3 × 3 (grouped, strided) → 1 × 1 × 4, each
/// followed by BN, ReLU between, optional attention after <c>bn3</c> (timm's <c>se</c>), shortcut added before the last ReLU.
/// Inner width = floor(planes × widthPerGroup / 64) × groups.
/// </summary>
public sealed class BottleneckBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly nn.Module<Tensor, Tensor>? se;
    private readonly nn.Module<Tensor, Tensor>? downsample;

    /// <summary>Creates the block.</summary>
    /// <param name="spec">Channels, stride, shortcut, groups and width per group.</param>
    /// <param name="attention">Builds an optional channel-attention module for the output channels (registered as <c>se</c>).</param>
    /// <exception cref="ArgumentException">The inner width is not positive.</exception>
    public BottleneckBlock(ResNetBlockSpec spec, Func<int, nn.Module<Tensor, Tensor>>? attention = null) : base(nameof(BottleneckBlock))
    {
        ArgumentNullException.ThrowIfNull(spec);
        int width = spec.Planes * spec.WidthPerGroup / 64 * spec.Groups;
        if (width <= 0)
            throw new ArgumentException($"Planes {spec.Planes} with width per group {spec.WidthPerGroup} gives no channels.", nameof(spec));
        int output = spec.Planes * 4;
        conv1 = nn.Conv2d(spec.InputChannels, width, 1, bias: false);
        bn1 = nn.BatchNorm2d(width);
        conv2 = ResNetConvolutions.Conv(width, width, 3, spec.Stride, spec.Padding, spec.Groups);
        bn2 = nn.BatchNorm2d(width);
        conv3 = nn.Conv2d(width, output, 1, bias: false);
        bn3 = nn.BatchNorm2d(output);
        se = attention?.Invoke(output);
        downsample = spec.Downsample;
        RegisterComponents();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="input">N × InputChannels × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(bn1.forward(conv1.forward(input)));
        x = nn.functional.relu(bn2.forward(conv2.forward(x)));
        x = bn3.forward(conv3.forward(x));
        if (se is not null)
            x = se.forward(x);
        var shortcut = downsample is null ? input : downsample.forward(input);
        return nn.functional.relu(x.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
