namespace DeepRetrieval.Imaging.IO;

/// <summary>A file an <see cref="ImageFolderReader"/> could not read, and why.</summary>
/// <param name="Index">Position of the file in the reader's sorted file list.</param>
/// <param name="Path">The file's full path.</param>
/// <param name="Reason">The error message (it names the file and the problem).</param>
/// <param name="Error">The exception: <see cref="InvalidDataException"/> for bad image data, <see cref="IOException"/>
/// or <see cref="UnauthorizedAccessException"/> for unreadable files, or what the transform threw.</param>
public sealed record SkippedImage(int Index, string Path, string Reason, Exception Error);
