namespace DeepRetrieval.Torch.Data;

/// <summary>One image of an <see cref="ImageFileSet"/>: its file and class.</summary>
/// <param name="Path">The image file (an <see cref="ImageFileSet"/> keeps it as a full path).</param>
/// <param name="Label">Its class label (for a folder, the index of its sub-folder in <see cref="ImageFileSet.Classes"/>), or −1 for none.</param>
public sealed record ImageSample(string Path, int Label);
