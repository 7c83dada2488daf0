namespace DeepRetrieval.OnnxRuntime.Extraction;

/// <summary>Where an <see cref="OnnxFeatureExtractor"/> run stands, reported after every batch and once at the end.</summary>
/// <param name="Processed">Images embedded so far.</param>
/// <param name="Skipped">Files skipped so far because they could not be read.</param>
/// <param name="Total">Files in the run.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="LastPath">The last file embedded or skipped (null before the first).</param>
public sealed record ImageExtractionProgress(long Processed, long Skipped, long Total, TimeSpan Elapsed, string? LastPath)
{
    /// <summary>Embedded images per second of elapsed time.</summary>
    public double ImagesPerSecond => Elapsed > TimeSpan.Zero ? Processed / Elapsed.TotalSeconds : 0;
}
