using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.Torch.Data;

/// <summary>
/// How an image file becomes a C × H × W float tensor, in torchvision's order: decode (with <c>DeepRetrieval.Imaging</c>: EXIF
/// orientation applied, RGB or PIL's grey), optional resize (<see cref="ResizeMode"/> to <see cref="Size"/> with
/// <see cref="Filter"/>, PIL's antialiased bilinear by default, pixel for pixel as PIL), optional center crop, values in [0, 1],
/// then optional per-channel <c>(x − mean) / std</c> (torchvision's <c>Resize</c>, <c>CenterCrop</c>, <c>ToTensor</c>,
/// <c>Normalize</c>). The default keeps the decoded RGB image. Everything before the normalisation works on 8-bit pixels, so
/// an <see cref="ImageFileSet"/> can cache the resized image as bytes.
/// </summary>
public sealed record ImagePreprocessing
{
    /// <summary>How the image is resized before cropping.</summary>
    public ImageResizeMode ResizeMode { get; init; } = ImageResizeMode.None;

    /// <summary>Target size in pixels for <see cref="ResizeMode"/>; ignored for <see cref="ImageResizeMode.None"/>.</summary>
    public int Size { get; init; }

    /// <summary>
    /// The resampling filter: <see cref="ResizeFilter.Bilinear"/> (default) is PIL's antialiased bilinear, which torchvision's
    /// <c>Resize</c> uses on PIL images; <see cref="ResizeFilter.LinearExact"/> is OpenCV's plain bilinear.
    /// </summary>
    public ResizeFilter Filter { get; init; } = ResizeFilter.Bilinear;

    /// <summary>Side of the square center crop taken after resizing; null for no crop. A crop larger than the image is padded with zeros, as torchvision does.</summary>
    public int? CenterCropSize { get; init; }

    /// <summary>Decode to one grey channel (PIL's <c>convert("L")</c>: weights 0.299, 0.587, 0.114 in 16-bit fixed point) instead of three RGB channels.</summary>
    public bool Grayscale { get; init; }

    /// <summary>Per-channel mean subtracted after scaling to [0, 1]; null for none. One value per output channel.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    /// <summary>Per-channel standard deviation divided by after the mean; null for none. One positive value per output channel.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>
    /// How files are decoded: EXIF orientation (applied by default, as PIL's <c>ImageOps.exif_transpose</c>; set
    /// <c>ApplyExifOrientation = false</c> for the stored pixels torchvision's <c>ImageFolder</c> loader sees), the pixel limit
    /// against decompression bombs, and JPEG draft decoding. Its <c>Format</c> is ignored: <see cref="Grayscale"/> decides.
    /// </summary>
    public ImageDecodeOptions Decode { get; init; } = ImageDecodeOptions.Default;

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
    /// <exception cref="ArgumentException">A size is not positive, the mode or filter is unknown, or mean/std have the wrong length or a non-finite or non-positive value.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(ResizeMode))
            throw new ArgumentException($"Unknown resize mode {ResizeMode}.", nameof(ResizeMode));
        if (ResizeMode != ImageResizeMode.None && Size <= 0)
            throw new ArgumentException($"Resize mode {ResizeMode} needs a positive Size; got {Size}.", nameof(Size));
        if (!Enum.IsDefined(Filter))
            throw new ArgumentException($"Unknown resize filter {Filter}.", nameof(Filter));
        if (CenterCropSize is int crop && crop <= 0)
            throw new ArgumentException($"CenterCropSize must be positive; got {crop}.", nameof(CenterCropSize));
        if (Mean is not null && (Mean.Count != Channels || Mean.Any(m => !float.IsFinite(m))))
            throw new ArgumentException($"Mean must hold {Channels} finite values (one per channel); got [{string.Join(", ", Mean)}].", nameof(Mean));
        if (Std is not null && (Std.Count != Channels || Std.Any(s => !(s > 0) || !float.IsFinite(s))))
            throw new ArgumentException($"Std must hold {Channels} positive finite values (one per channel); got [{string.Join(", ", Std)}].", nameof(Std));
        if (Decode is null)
            throw new ArgumentException("Decode options are required (ImageDecodeOptions.Default for the defaults).", nameof(Decode));
        if (Decode.MaxPixels < 1)
            throw new ArgumentException($"Decode.MaxPixels must be positive; got {Decode.MaxPixels}.", nameof(Decode));
    }

    /// <summary>The decode options with the format this preprocessing needs.</summary>
    internal ImageDecodeOptions DecodeOptions() => Decode with { Format = Grayscale ? PixelFormat.Gray8 : PixelFormat.Rgb24 };

    /// <summary>The 8-bit to float mapping: x / 255, then (x − mean) / std per channel.</summary>
    internal ChannelNormalization Normalization() => new(Grayscale ? PixelFormat.Gray8 : PixelFormat.Rgb24, 1f / 255,
        Mean?.ToArray() ?? new float[Channels], Std?.ToArray() ?? Enumerable.Repeat(1f, Channels).ToArray());

    /// <summary>Decodes a file and resizes and crops it, keeping the full-size decode in pooled memory.</summary>
    internal PixelImage DecodeAndResize(string path) => ImageDecoder.Decode(path, DecodeOptions(), Resize);

    /// <summary>The resize and crop steps on 8-bit pixels; returns the input itself when both are off.</summary>
    internal PixelImage Resize(PixelImage image)
    {
        var (width, height) = ResizedSize(image.Width, image.Height);
        PixelImage result = width == image.Width && height == image.Height ? image : image.Resize(width, height, Filter);
        return CenterCropSize is int crop && (crop != result.Width || crop != result.Height) ? result.CenterCrop(crop) : result;
    }

    /// <summary>The size after the resize step (torchvision truncates the computed side).</summary>
    internal (int Width, int Height) ResizedSize(int width, int height)
    {
        switch (ResizeMode)
        {
            case ImageResizeMode.Square:
                return (Size, Size);
            case ImageResizeMode.ShorterSide:
                ImageSize shorter = Resizing.ShorterSideSize(new ImageSize(width, height), Size);
                return (shorter.Width, shorter.Height);
            case ImageResizeMode.LongerSide:
                return width >= height
                    ? (Size, Math.Max(1, (int)((long)Size * height / width)))
                    : (Math.Max(1, (int)((long)Size * width / height)), Size);
            default:
                return (width, height);
        }
    }
}
