using DeepRetrieval.Torch.Augmentation;

namespace DeepRetrieval.Torch.Data;

/// <summary>Settings of an <see cref="ImageFileSet"/>.</summary>
public sealed record ImageFileSetOptions
{
    /// <summary>The extensions torchvision's <c>ImageFolder</c> reads that the image package decodes: .jpg, .jpeg, .png, .bmp, .gif, .webp.</summary>
    public static IReadOnlyList<string> DefaultExtensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"];

    /// <summary>How each file becomes pixels and then floats: decoding, resize, crop (all cached as bytes), normalisation.</summary>
    public ImagePreprocessing Preprocessing { get; init; } = new();

    /// <summary>
    /// Random augmentations applied in order to each preprocessed image when the set is read for training
    /// (<see cref="ImageFileSet.ReadTrainingBatches"/>), on the decoding threads, each sample with its own seeded generator.
    /// Plain reads (<see cref="ImageFileSet.ReadBatches"/>: extraction, validation) never augment.
    /// </summary>
    public IReadOnlyList<IImageAugmentation> Augmentations { get; init; } = [];

    /// <summary>Threads decoding, resizing and augmenting while the consumer works; at least 1. Default: the processor count.</summary>
    public int DecodeThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Batches prepared ahead of the one the consumer is using; at least 1 (default 2). Memory holds at most this many
    /// batches of prepared floats (plus the current batch's tensor), however many images the set has.
    /// </summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>
    /// Bytes of preprocessed 8-bit pixels (after decoding, resizing and cropping, before augmentation) kept in memory so later
    /// epochs skip decoding; images beyond the budget are decoded every time. 0 (default) disables the cache.
    /// </summary>
    public long CacheBytes { get; init; }

    /// <summary>File extensions (with the dot, compared case-insensitively) that count as images when a folder is scanned.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = DefaultExtensions;

    /// <summary>Deepest sub-folder level visited below a class folder when a folder is scanned (default 32); guards against link loops.</summary>
    public int MaxDepth { get; init; } = 32;

    internal void Validate()
    {
        if (Preprocessing is null) throw new ArgumentException("Preprocessing is required.", nameof(Preprocessing));
        Preprocessing.Validate();
        if (Augmentations is null || Augmentations.Any(a => a is null))
            throw new ArgumentException("Augmentations must be a list without nulls (empty for none).", nameof(Augmentations));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DecodeThreads, nameof(DecodeThreads));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PrefetchBatches, nameof(PrefetchBatches));
        ArgumentOutOfRangeException.ThrowIfNegative(CacheBytes, nameof(CacheBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxDepth, nameof(MaxDepth));
        if (Extensions is null || Extensions.Count == 0 || Extensions.Any(e => string.IsNullOrEmpty(e) || e[0] != '.'))
            throw new ArgumentException($"Extensions must be non-empty and each start with a dot; got [{string.Join(", ", Extensions ?? [])}].", nameof(Extensions));
    }
}
