namespace DeepRetrieval.Torch.Data;

/// <summary>
/// A source of image batches in a fixed, deterministic order: image files (<see cref="ImageFileSet"/>) or images
/// already in memory (<see cref="TensorImageSet"/>). <see cref="Extraction.FeatureExtractor"/> reads any source.
/// </summary>
public interface IImageBatchSource
{
    /// <summary>The number of images the source holds, including any that will turn out unreadable.</summary>
    long Count { get; }

    /// <summary>
    /// Reads the images in order as batches of at most <paramref name="batchSize"/>. Images that cannot be read are skipped
    /// (reported through <paramref name="skipped"/>, in order, on the enumerating thread), never thrown.
    /// </summary>
    /// <param name="batchSize">Largest number of images per batch; a source may return smaller batches (for example where the image size changes).</param>
    /// <param name="skipped">Told about each skipped image; null to ignore.</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    /// <exception cref="ArgumentOutOfRangeException">batchSize is not positive.</exception>
    IEnumerable<ImageBatch> ReadBatches(int batchSize, IProgress<SkippedImage>? skipped = null, CancellationToken cancellationToken = default);
}
