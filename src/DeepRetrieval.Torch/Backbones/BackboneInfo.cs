using DeepRetrieval.Torch.Weights;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// What a registered backbone produces and expects, known before it is built (timm's <c>feature_info</c> plus
/// <c>pretrained_cfg</c>): the pooling layer and the head are sized from it, a saved retrieval model records it, and
/// <see cref="Pretrained"/> says where its pretrained weights are. In an entry of <see cref="BackboneRegistry"/>, the input
/// size, mean and standard deviation are those of the registered pretrained weights (their <see cref="PretrainedConfig"/>
/// overrides the architecture's values where it gives its own).
/// </summary>
/// <param name="Name">The registry name, e.g. <c>resnet50</c>.</param>
/// <param name="OutputChannels">Channels of the final feature map (before pooling).</param>
/// <param name="OutputStride">Stride of the final feature map relative to the input image.</param>
/// <param name="InputSize">The square input size the network was designed (and pretrained) for.</param>
/// <param name="Mean">Per-channel mean subtracted from images in [0, 1] before the network.</param>
/// <param name="Std">Per-channel standard deviation images are divided by after the mean.</param>
public sealed record BackboneInfo(string Name, int OutputChannels, int OutputStride, int InputSize, IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>ImageNet mean (0.485, 0.456, 0.406), used by torchvision and most timm models.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet standard deviation (0.229, 0.224, 0.225).</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Channels of the images the backbone takes (the length of <see cref="Mean"/>).</summary>
    public int InputChannels => Mean.Count;

    /// <summary>The backbone's default pretrained weights (timm's <c>pretrained_cfg</c>), or null when none are registered.</summary>
    public PretrainedConfig? Pretrained { get; init; }

    /// <summary>This description with the pretrained weights' own input size, mean and standard deviation, where they give them.</summary>
    internal BackboneInfo WithPretrainedDataConfig() => Pretrained is not { } p ? this : this with
    {
        InputSize = p.InputSize ?? InputSize,
        Mean = p.Mean ?? Mean,
        Std = p.Std ?? Std,
    };
}
