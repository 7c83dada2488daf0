using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// The extension point of <see cref="ResNet"/>: builds its residual blocks. <see cref="Basic"/> and <see cref="Bottleneck"/>
/// give torchvision's ResNets; <see cref="SqueezeExcitationBottleneck"/> gives SE-ResNet and <see cref="SplitAttentionBottleneck"/>
/// ResNeSt. Derive to plug in another block: <see cref="Create"/> must register the spec's downsample module as
/// <c>downsample</c> and return a module mapping InputChannels to Planes × <see cref="Expansion"/> channels at the given stride.
/// </summary>
public abstract class ResNetBlockFactory
{
    /// <summary>Output channels of a block divided by its planes (1 for basic blocks, 4 for bottlenecks).</summary>
    public abstract int Expansion { get; }

    /// <summary>Builds one block.</summary>
    /// <param name="spec">Channels, stride, shortcut and width of the block.</param>
    public abstract nn.Module<Tensor, Tensor> Create(ResNetBlockSpec spec);

    /// <summary>Two 3 × 3 convolutions (ResNet-18/34).</summary>
    public static ResNetBlockFactory Basic { get; } = new DelegateFactory(1, s => new BasicBlock(s));

    /// <summary>1 × 1, 3 × 3 (grouped), 1 × 1 convolutions, expansion 4 (ResNet-50/101/152, ResNeXt, Wide ResNet).</summary>
    public static ResNetBlockFactory Bottleneck { get; } = new DelegateFactory(4, s => new BottleneckBlock(s));

    /// <summary>Bottlenecks with squeeze-and-excitation (timm's <c>seresnet</c>, module <c>se</c> after <c>bn3</c>).</summary>
    /// <param name="reduction">Channel reduction of the excitation (16 in SE-ResNet).</param>
    public static ResNetBlockFactory SqueezeExcitationBottleneck(int reduction = 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reduction);
        return new DelegateFactory(4, s => new BottleneckBlock(s, c => new SqueezeExcitation(c, reduction)));
    }

    /// <summary>ResNeSt bottlenecks with split attention (timm's <c>ResNestBottleneck</c>, average-pool after the 3 × 3 when strided).</summary>
    /// <param name="radix">Splits per group (2 in ResNeSt).</param>
    public static ResNetBlockFactory SplitAttentionBottleneck(int radix = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(radix);
        return new DelegateFactory(4, s => new ResNeStBottleneck(s, radix));
    }

    /// <summary>A factory from a delegate.</summary>
    /// <param name="expansion">Output channels divided by planes.</param>
    /// <param name="create">Builds a block.</param>
    public static ResNetBlockFactory FromDelegate(int expansion, Func<ResNetBlockSpec, nn.Module<Tensor, Tensor>> create)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expansion);
        ArgumentNullException.ThrowIfNull(create);
        return new DelegateFactory(expansion, create);
    }

    private sealed class DelegateFactory(int expansion, Func<ResNetBlockSpec, nn.Module<Tensor, Tensor>> create) : ResNetBlockFactory
    {
        public override int Expansion => expansion;

        public override nn.Module<Tensor, Tensor> Create(ResNetBlockSpec spec) => create(spec);
    }
}
