namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// The structure of a <see cref="ResNet"/> (timm's <c>ResNet(block, layers, ...)</c> arguments). Defaults give ResNet-50's
/// layout with bottlenecks; set <see cref="Block"/> and <see cref="Layers"/> for others, e.g. ResNet-18 is
/// <c>new ResNetConfig { Block = ResNetBlockFactory.Basic, Layers = [2, 2, 2, 2] }</c>.
/// </summary>
public sealed record ResNetConfig
{
    /// <summary>Builds the residual blocks.</summary>
    public ResNetBlockFactory Block { get; init; } = ResNetBlockFactory.Bottleneck;

    /// <summary>Blocks in layer1..layer4 (any positive counts, four stages).</summary>
    public IReadOnlyList<int> Layers { get; init; } = [3, 4, 6, 3];

    /// <summary>
    /// Planes of layer1..layer4 (timm's <c>channels</c>): a stage outputs planes × the block's expansion channels. The default
    /// (64, 128, 256, 512) is every ResNet's; narrower stages give small networks of the same structure.
    /// </summary>
    public IReadOnlyList<int> Channels { get; init; } = [64, 128, 256, 512];

    /// <summary>Groups of the 3 × 3 convolutions (ResNeXt cardinality).</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Width per group at planes 64: 64 for ResNet, 4 for ResNeXt-32x4d, 128 for Wide ResNet-50-2.</summary>
    public int WidthPerGroup { get; init; } = 64;

    /// <summary>
    /// Deep stem (timm's <c>stem_type='deep'</c>, the 'c'/'d' variants): three 3 × 3 convolutions <c>conv1.0</c>, <c>conv1.3</c>,
    /// <c>conv1.6</c> of widths <see cref="StemWidth"/>, <see cref="StemWidth"/>, 2 × <see cref="StemWidth"/>, instead of one 7 × 7.
    /// </summary>
    public bool DeepStem { get; init; }

    /// <summary>Width of the first stem convolutions with <see cref="DeepStem"/> (32 in timm's 'd' models); ignored otherwise.</summary>
    public int StemWidth { get; init; } = 32;

    /// <summary>
    /// Average-pool downsampling (timm's <c>avg_down</c>, the 'd' variants): strided shortcuts are a 2 × 2 average pool
    /// (<c>downsample.0</c>) then a 1 × 1 convolution (<c>downsample.1</c>) and BN (<c>downsample.2</c>), instead of a strided
    /// 1 × 1 convolution (<c>downsample.0</c>) and BN (<c>downsample.1</c>).
    /// </summary>
    public bool AvgDown { get; init; }

    /// <summary>Placement of the padding of strided convolutions and of the stem max-pool.</summary>
    public ResNetPadding Padding { get; init; } = ResNetPadding.Symmetric;
}
