namespace DeepRetrieval.Samples.CopyDetection.Photos;

/// <summary>One distinct photograph found on disk.</summary>
/// <param name="Key">A stable, unique name ("mate/nature/Garden", "wallpapers/Altai"): the reference id of the benchmark.</param>
/// <param name="Path">The file.</param>
/// <param name="Length">The file's size in bytes (part of the copy cache's key, so a changed file gets new copies).</param>
internal sealed record Photo(string Key, string Path, long Length);
