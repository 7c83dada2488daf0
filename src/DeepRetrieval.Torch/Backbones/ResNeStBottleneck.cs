using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// timm's <c>ResNestBottleneck</c> with <c>avd=True, avd_first=False</c>: 1 × 1 <c>conv1</c>/<c>bn1</c> → ReLU →
/// <see cref="SplitAttention"/> <c>conv2</c> (stride 1) → 3 × 3 stride-s average pool when strided → 1 × 1 <c>conv3</c>/<c>bn3</c>
/// + shortcut → ReLU. Inner width = floor(planes × widthPerGroup / 64) × groups.
/// </summary>
public sealed class ResNeStBottleneck : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly SplitAttention conv2;
    private readonly AvgPool2d? avd_last;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly nn.Module<Tensor, Tensor>? downsample;

    /// <summary>Creates the block.</summary>
    /// <param name="spec">Channels, stride, shortcut, groups (cardinality) and width per group.</param>
    /// <param name="radix">Splits per group.</param>
    /// <exception cref="ArgumentException">The inner width is not positive.</exception>
    public ResNeStBottleneck(ResNetBlockSpec spec, int radix = 2) : base(nameof(ResNeStBottleneck))
    {
        ArgumentNullException.ThrowIfNull(spec);
        int width = spec.Planes * spec.WidthPerGroup / 64 * spec.Groups;
        if (width <= 0)
            throw new ArgumentException($"Planes {spec.Planes} with width per group {spec.WidthPerGroup} gives no channels.", nameof(spec));
        conv1 = nn.Conv2d(spec.InputChannels, width, 1, bias: false);
        bn1 = nn.BatchNorm2d(width);
        conv2 = new SplitAttention(width, width, 1, spec.Groups, radix);
        if (spec.Stride > 1)
            avd_last = nn.AvgPool2d(3, spec.Stride, 1);
        conv3 = nn.Conv2d(width, spec.Planes * 4, 1, bias: false);
        bn3 = nn.BatchNorm2d(spec.Planes * 4);
        downsample = spec.Downsample;
        RegisterComponents();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="input">N × InputChannels × H × W.</param>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(bn1.forward(conv1.forward(input)));
        x = conv2.forward(x);
        if (avd_last is not null)
            x = avd_last.forward(x);
        x = bn3.forward(conv3.forward(x));
        var shortcut = downsample is null ? input : downsample.forward(input);
        return nn.functional.relu(x.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
