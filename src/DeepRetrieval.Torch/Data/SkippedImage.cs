namespace DeepRetrieval.Torch.Data;

/// <summary>An image that could not be decoded and was left out of a run.</summary>
/// <param name="Id">Its id (for an <see cref="ImageFileSet"/>, its position in <see cref="ImageFileSet.Samples"/>).</param>
/// <param name="Path">The file.</param>
/// <param name="Reason">Why it was skipped (missing, empty, truncated, not an image, over the pixel limit, ...).</param>
public sealed record SkippedImage(long Id, string Path, string Reason);
