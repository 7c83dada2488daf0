namespace DeepRetrieval.Imaging;

/// <summary>How <see cref="ImageDecoder"/> turns a file into a <see cref="PixelImage"/>.</summary>
public sealed record ImageDecodeOptions
{
    /// <summary>
    /// PIL's decompression-bomb error threshold: 2 × <c>Image.MAX_IMAGE_PIXELS</c> = 2 × ⌊1024³ / 4 / 3⌋ = 178,956,970
    /// pixels (PIL warns from half of it and refuses above it).
    /// </summary>
    public const long DefaultMaxPixels = 178_956_970;

    /// <summary>The shared default options: RGB, EXIF orientation applied, PIL's pixel limit.</summary>
    public static ImageDecodeOptions Default { get; } = new();

    /// <summary>Channel order of the result. Default <see cref="PixelFormat.Rgb24"/>; <see cref="PixelFormat.Gray8"/>
    /// converts as PIL's <c>convert("L")</c> does.</summary>
    public PixelFormat Format { get; init; } = PixelFormat.Rgb24;

    /// <summary>
    /// Turn the pixels upright as the EXIF orientation tag says (PIL's <c>ImageOps.exif_transpose</c>). Default true.
    /// Set false to get the stored pixels, as PIL's plain <c>Image.open</c> and torchvision's <c>ImageFolder</c> loader do.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>
    /// Largest width × height accepted, checked from the header before any pixel memory is allocated; larger images are
    /// refused with <see cref="InvalidDataException"/> (a decompression bomb). Default <see cref="DefaultMaxPixels"/>.
    /// </summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>
    /// When set, JPEG files are decoded at 1/2, 1/4 or 1/8 scale in the DCT domain (libjpeg-turbo's scaled IDCT, much
    /// faster) as PIL's <c>Image.draft("RGB", size)</c> does: the largest of 8, 4, 2, 1 that divides both
    /// <c>stored / requested</c> integer ratios, so the result is never smaller than this size (compared after
    /// orientation). Other formats decode at full size. Null (default) always decodes at full size, as
    /// <c>Image.open</c> does; set it when the image is resized down afterwards and speed matters more than matching a
    /// full decode (the scaled IDCT changes pixels by a few grey levels).
    /// </summary>
    public ImageSize? DraftSize { get; init; }

    /// <summary>Decode JPEGs with SkiaSharp even when TurboJPEG is installed (tests compare the two).</summary>
    internal bool ForceSkiaJpeg { get; init; }

    internal void Validate()
    {
        _ = Format.ChannelCount();
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPixels, 1, nameof(MaxPixels));
        if (DraftSize is { } draft && (draft.Width < 1 || draft.Height < 1))
            throw new ArgumentOutOfRangeException(nameof(DraftSize), draft, "A draft size must be at least 1 × 1.");
    }
}
