using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// How a decoded image becomes a C × H × W float tensor: optional resize (<see cref="ResizeMode"/> to <see cref="Size"/>),
/// optional center crop, RGB or grey, values in [0, 1], then optional per-channel <c>(x − mean) / std</c> (torchvision's
/// <c>Resize</c>, <c>CenterCrop</c>, <c>ToTensor</c>, <c>Normalize</c>, in that order). The default keeps the decoded RGB image.
/// </summary>
public sealed class ImagePreprocessing
{
    /// <summary>How the image is resized before cropping.</summary>
    public ImageResizeMode ResizeMode { get; init; } = ImageResizeMode.None;

    /// <summary>Target size in pixels for <see cref="ResizeMode"/>; ignored for <see cref="ImageResizeMode.None"/>.</summary>
    public int Size { get; init; }

    /// <summary>Side of the square center crop taken after resizing; null for no crop. A crop larger than the image is padded with zeros, as torchvision does.</summary>
    public int? CenterCropSize { get; init; }

    /// <summary>Decode to one grey channel (PIL's <c>convert("L")</c> weights 0.299, 0.587, 0.114) instead of three RGB channels.</summary>
    public bool Grayscale { get; init; }

    /// <summary>Per-channel mean subtracted after scaling to [0, 1]; null for none. One value per output channel.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    /// <summary>Per-channel standard deviation divided by after the mean; null for none. One positive value per output channel.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>Output channels: 1 when <see cref="Grayscale"/>, else 3.</summary>
    public int Channels => Grayscale ? 1 : 3;

    /// <summary>
    /// The usual evaluation transform for a backbone: shorter side to <c>InputSize / 0.875</c> (256 for 224), center crop of
    /// <c>InputSize</c>, and the backbone's mean and standard deviation; grey when the backbone takes one channel.
    /// </summary>
    /// <param name="info">The backbone's description.</param>
    /// <exception cref="ArgumentException">The backbone takes neither one nor three channels.</exception>
    public static ImagePreprocessing ForBackbone(BackboneInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.InputChannels is not (1 or 3))
            throw new ArgumentException($"Images decode to one or three channels; backbone '{info.Name}' takes {info.InputChannels}.", nameof(info));
        return new ImagePreprocessing
        {
            ResizeMode = ImageResizeMode.ShorterSide,
            Size = (int)Math.Round(info.InputSize / 0.875),
            CenterCropSize = info.InputSize,
            Grayscale = info.InputChannels == 1,
            Mean = info.Mean,
            Std = info.Std,
        };
    }

    /// <summary>Checks that the settings are consistent.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or mean/std have the wrong length or a non-finite or non-positive value.</exception>
    public void Validate()
    {
        if (ResizeMode != ImageResizeMode.None && Size <= 0)
            throw new ArgumentException($"Resize mode {ResizeMode} needs a positive Size; got {Size}.", nameof(Size));
        if (!Enum.IsDefined(ResizeMode))
            throw new ArgumentException($"Unknown resize mode {ResizeMode}.", nameof(ResizeMode));
        if (CenterCropSize is int crop && crop <= 0)
            throw new ArgumentException($"CenterCropSize must be positive; got {crop}.", nameof(CenterCropSize));
        if (Mean is not null && (Mean.Count != Channels || Mean.Any(m => !float.IsFinite(m))))
            throw new ArgumentException($"Mean must hold {Channels} finite values (one per channel); got [{string.Join(", ", Mean)}].", nameof(Mean));
        if (Std is not null && (Std.Count != Channels || Std.Any(s => !(s > 0) || !float.IsFinite(s))))
            throw new ArgumentException($"Std must hold {Channels} positive finite values (one per channel); got [{string.Join(", ", Std)}].", nameof(Std));
    }
}
