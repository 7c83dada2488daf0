namespace DeepRetrieval.Datasets;

/// <summary>One file a dataset is distributed as: where to get it, what to call it, and its published checksum.</summary>
/// <param name="FileName">Name of the file on disk.</param>
/// <param name="Address">Where it is downloaded from.</param>
/// <param name="Md5">The published MD5 checksum (lower-case hex), or null when the publisher gives none.</param>
public sealed record DatasetFile(string FileName, Uri Address, string? Md5 = null);
