using DeepRetrieval.OnnxRuntime.Extraction;

namespace DeepRetrieval.Tool.Embedding;

/// <summary>Whole-list extraction over any <see cref="IGalleryEmbedder"/> (dedup and eval keep every vector in memory).</summary>
internal static class GalleryEmbedderExtensions
{
    /// <summary>Embeds every file; row i of the result is the i-th readable file, its id the file's position in <paramref name="files"/>.</summary>
    public static async Task<ImageFeatures> ExtractFilesAsync(this IGalleryEmbedder embedder, IReadOnlyList<string> files,
        IProgress<ImageExtractionProgress>? progress, CancellationToken cancellationToken)
    {
        var ids = new List<long>(files.Count);
        var paths = new List<string>(files.Count);
        var vectors = new List<float>(files.Count * embedder.Dimension);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await foreach (EmbeddedImage image in embedder.EmbedFilesAsync(files, progress, cancellationToken).ConfigureAwait(false))
        {
            ids.Add(image.Index);
            paths.Add(image.Path);
            vectors.AddRange(image.Embedding);
        }
        return new ImageFeatures([.. ids], [.. paths], [.. vectors], embedder.Dimension, embedder.Skipped,
            embedder.Times ?? new ExtractionStageTimes(TimeSpan.Zero, TimeSpan.Zero, clock.Elapsed, clock.Elapsed));
    }
}
