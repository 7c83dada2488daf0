namespace DeepRetrieval.Torch.Data;

/// <summary>An image that could not be decoded and was left out of a run.</summary>
/// <param name="Id">Its id (for an <see cref="ImageFolderDataset"/>, its position in <see cref="ImageFolderDataset.Samples"/>).</param>
/// <param name="Path">The file.</param>
/// <param name="Reason">Why it was skipped (empty, truncated, not an image, unreadable, ...).</param>
public sealed record SkippedImage(long Id, string Path, string Reason);
