namespace DeepRetrieval.Imaging.IO;

/// <summary>Progress of an <see cref="ImageFolderReader"/> run, reported after each file in list order.</summary>
/// <param name="Completed">Files handled so far (decoded or skipped).</param>
/// <param name="Total">Files in the list.</param>
/// <param name="Skipped">Files skipped so far.</param>
/// <param name="Path">The file just handled.</param>
public sealed record ImageReadProgress(int Completed, int Total, int Skipped, string Path);
