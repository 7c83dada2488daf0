namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Where a <see cref="ResNet"/> puts the zero padding of its strided convolutions and of the stem max-pool.
/// </summary>
public enum ResNetPadding
{
    /// <summary>(k − 1) / 2 on both sides, as torchvision and timm do.</summary>
    Symmetric,

    /// <summary>
    /// k − s in total, the odd one at the start (ONNX <c>SAME_LOWER</c> for inputs divisible by the stride), as CNTK exports
    /// ResNets: pads 3/2 for the 7 × 7 stride-2 stem, 1/0 for 3 × 3 stride-2 convolutions and the stem max-pool. Stride-1
    /// layers stay symmetric. For inputs divisible by the stride it gives the same maps as <see cref="Symmetric"/>.
    /// </summary>
    ExtraAtStart,
}
