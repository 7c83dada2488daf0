namespace DeepRetrieval.Imaging.IO;

/// <summary>Settings of an <see cref="ImageFolderReader"/>.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>The extensions read by default: .jpg, .jpeg, .png, .webp, .bmp, .gif.</summary>
    public static IReadOnlyList<string> DefaultExtensions { get; } = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"];

    /// <summary>File extensions (with the dot, compared case-insensitively) that count as images; other files are ignored.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = DefaultExtensions;

    /// <summary>Descend into sub-folders (default true), at most <see cref="MaxDepth"/> levels.</summary>
    public bool Recursive { get; init; } = true;

    /// <summary>Deepest sub-folder level visited when <see cref="Recursive"/> (default 32); guards against link loops.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>Threads decoding in parallel (default: the processor count), at least 1.</summary>
    public int DecodeThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Most images held at once, counting those being decoded, those waiting and the one the consumer is using
    /// (default 2 × <see cref="DecodeThreads"/>): bounds the memory however slow the consumer is.
    /// </summary>
    public int QueueCapacity { get; init; }

    /// <summary>How each file is decoded (format, orientation, pixel limit, draft size).</summary>
    public ImageDecodeOptions Decode { get; init; } = ImageDecodeOptions.Default;

    /// <summary>
    /// Work applied to each decoded image on the decoding thread (resize, crop), so that only its result is queued;
    /// null keeps the decoded image. The decoded image lives in pooled memory during the call (see
    /// <see cref="ImageDecoder.Decode(string, ImageDecodeOptions?, Func{PixelImage, PixelImage})"/>): return a new image
    /// and do not keep the input. An exception it throws skips the file like a decoding error.
    /// </summary>
    public Func<PixelImage, PixelImage>? Transform { get; init; }

    internal int EffectiveQueueCapacity => QueueCapacity > 0 ? QueueCapacity : 2 * DecodeThreads;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Extensions, nameof(Extensions));
        ArgumentNullException.ThrowIfNull(Decode, nameof(Decode));
        ArgumentOutOfRangeException.ThrowIfLessThan(DecodeThreads, 1, nameof(DecodeThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(QueueCapacity, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDepth, 0, nameof(MaxDepth));
        foreach (string extension in Extensions)
            if (string.IsNullOrEmpty(extension) || extension[0] != '.')
                throw new ArgumentException($"Extensions start with a dot; got \"{extension}\".", nameof(Extensions));
        Decode.Validate();
    }
}
