namespace DeepRetrieval.Torch.Data;

/// <summary>One image of an <see cref="ImageFolderDataset"/>: its file and class.</summary>
/// <param name="Path">Full path of the image file.</param>
/// <param name="Label">Index of its class in <see cref="ImageFolderDataset.Classes"/>.</param>
public sealed record ImageSample(string Path, int Label);
