using System.Globalization;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.OnnxRuntime.Extraction;

/// <summary>Settings of an <see cref="OnnxFeatureExtractor"/>: how files become model inputs, and test-time augmentation.</summary>
public sealed record OnnxExtractionOptions
{
    /// <summary>How a photo becomes the model's input size (default <see cref="ImagePreparation.CenterCrop"/>).</summary>
    public ImagePreparation Preparation { get; init; } = ImagePreparation.CenterCrop;

    /// <summary>
    /// For <see cref="ImagePreparation.CenterCrop"/>, the part of the resized image the crop keeps along its shorter side: 1 (default)
    /// crops only what overhangs, 0.875 is torchvision's 224-of-256 evaluation crop.
    /// </summary>
    public double CropFraction { get; init; } = 1.0;

    /// <summary>The resampling filter (default <see cref="ResizeFilter.Bilinear"/>, PIL's antialiased bilinear as torchvision uses it).</summary>
    public ResizeFilter Filter { get; init; } = ResizeFilter.Bilinear;

    /// <summary>
    /// Decode JPEGs at 1/2, 1/4 or 1/8 scale in the DCT domain when the result is still at least twice the input size
    /// (<see cref="ImageDecodeOptions.DraftSize"/>): several times faster on multi-megapixel photos, and the pixels after the
    /// downscale differ from a full decode by a few grey levels. Default false (the exact pipeline).
    /// </summary>
    public bool DraftDecode { get; init; }

    /// <summary>Also embed each image flipped left-right; the views are averaged (test-time augmentation).</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>
    /// Input scales each image is embedded at (H × W times the factor, rounded), averaged. The default { 1 } is single-scale;
    /// other factors need a model whose input height and width are dynamic (<see cref="OnnxEmbedder.HasDynamicInputSize"/>).
    /// </summary>
    public IReadOnlyList<double> Scales { get; init; } = [1.0];

    /// <summary>Threads that decode and resize (default: the processor count).</summary>
    public int DecodeThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Images held between the decoders and the embedder (default 0: two batches): bounds memory however slow the model is.</summary>
    public int QueueCapacity { get; init; }

    /// <summary>Largest width × height decoded; larger files are skipped as decompression bombs (default PIL's limit).</summary>
    public long MaxPixels { get; init; } = ImageDecodeOptions.DefaultMaxPixels;

    /// <summary>Which files of a folder are images, and how deep to look (extensions, recursion, depth).</summary>
    public ImageFolderOptions Folder { get; init; } = new();

    /// <summary>
    /// Everything here that changes the embeddings, as one line (stored with a gallery next to the model's fingerprint):
    /// preparation, crop fraction, filter, draft decoding, flip and scales. Threads and queue size are not part of it.
    /// </summary>
    public string Description =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Preparation}{(Preparation == ImagePreparation.CenterCrop ? $"({CropFraction:R})" : "")} {Filter} draft={(DraftDecode ? "on" : "off")} flip={(HorizontalFlip ? "on" : "off")} scales=[{string.Join(";", Scales.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))}]");

    internal int EffectiveQueueCapacity(int batchSize) => QueueCapacity > 0 ? QueueCapacity : 2 * batchSize;

    internal void Validate()
    {
        if (!Enum.IsDefined(Preparation))
            throw new ArgumentException($"Unknown preparation {Preparation}.", nameof(Preparation));
        if (!(CropFraction > 0 && CropFraction <= 1))
            throw new ArgumentException($"CropFraction must be in (0, 1]; got {CropFraction}.", nameof(CropFraction));
        if (!Enum.IsDefined(Filter))
            throw new ArgumentException($"Unknown resize filter {Filter}.", nameof(Filter));
        if (Scales is null || Scales.Count == 0 || Scales.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new ArgumentException($"Scales must hold at least one positive finite factor; got [{string.Join(", ", Scales ?? [])}].", nameof(Scales));
        ArgumentOutOfRangeException.ThrowIfLessThan(DecodeThreads, 1, nameof(DecodeThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(QueueCapacity, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPixels, 1, nameof(MaxPixels));
        ArgumentNullException.ThrowIfNull(Folder, nameof(Folder));
    }
}
