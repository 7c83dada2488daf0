namespace DeepRetrieval.Torch.Data;

/// <summary>
/// A source of images that can be read in any order, batch by batch, and whose labels are known without decoding anything: what
/// <see cref="Training.EmbeddingTrainer"/>, the samplers (<see cref="Samplers.MPerClassSampler"/> takes <see cref="Labels"/>)
/// and validation need. Implemented by <see cref="TensorImageSet"/> (images in memory) and <see cref="ImageFileSet"/> (files
/// decoded on worker threads).
/// </summary>
public interface ITrainingImageSource : IImageBatchSource
{
    /// <summary>The label of every image, by index (position in the source), or null when the source has none.</summary>
    IReadOnlyList<long>? Labels { get; }

    /// <summary>
    /// Reads the given batches of indices in order, applying the source's training augmentation. The randomness of sample
    /// <c>p</c> (its position in the whole list, counting from 0) depends only on (<paramref name="seed"/>, <paramref name="epoch"/>,
    /// p), never on threads or timing. Images that cannot be read are left out of their batch and reported through
    /// <paramref name="skipped"/> (in order, on the enumerating thread); a batch left empty is not returned.
    /// </summary>
    /// <param name="batches">Indices per batch, each 0 ≤ index &lt; <see cref="IImageBatchSource.Count"/>.</param>
    /// <param name="seed">Seed of the augmentation.</param>
    /// <param name="epoch">Epoch number, mixed into the augmentation's seed.</param>
    /// <param name="skipped">Told about each image left out; null to ignore.</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    /// <exception cref="ArgumentException">An index is outside the source.</exception>
    IEnumerable<ImageBatch> ReadTrainingBatches(IReadOnlyList<long[]> batches, long seed, int epoch, IProgress<SkippedImage>? skipped = null,
        CancellationToken cancellationToken = default);
}
