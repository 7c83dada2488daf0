namespace DeepRetrieval.OnnxRuntime.Extraction;

/// <summary>One file embedded by <see cref="OnnxFeatureExtractor.EmbedFilesAsync"/>.</summary>
/// <param name="Index">The file's position in the list the run was given.</param>
/// <param name="Path">The file.</param>
/// <param name="Embedding">Its embedding, <see cref="OnnxEmbedder.Dimension"/> floats.</param>
public sealed record EmbeddedImage(int Index, string Path, float[] Embedding);
