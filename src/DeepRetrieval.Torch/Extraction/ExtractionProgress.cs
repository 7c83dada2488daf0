namespace DeepRetrieval.Torch.Extraction;

/// <summary>Where a <see cref="FeatureExtractor"/> run stands, reported after every batch and once at the end.</summary>
/// <param name="Processed">Images embedded so far.</param>
/// <param name="Skipped">Images skipped so far because they could not be read.</param>
/// <param name="Total">Images in the source (processed + skipped at the end).</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="ImagesPerSecond">Processed images per second of elapsed time.</param>
public sealed record ExtractionProgress(long Processed, long Skipped, long Total, TimeSpan Elapsed, double ImagesPerSecond);
