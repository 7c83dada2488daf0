namespace DeepRetrieval.Torch.Data;

/// <summary>Settings of an <see cref="ImageFolderDataset"/>.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>The extensions torchvision's <c>ImageFolder</c> reads that SkiaSharp decodes: .jpg, .jpeg, .png, .bmp, .gif, .webp.</summary>
    public static IReadOnlyList<string> DefaultExtensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"];

    /// <summary>How each image becomes a tensor.</summary>
    public ImagePreprocessing Preprocessing { get; init; } = new();

    /// <summary>File extensions (with the dot, compared case-insensitively) that count as images; other files are ignored.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = DefaultExtensions;

    /// <summary>Threads decoding images while the previous batch is being used; at least 1.</summary>
    public int DecodeThreads { get; init; } = 2;
}
