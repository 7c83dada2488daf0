namespace DeepRetrieval.Imaging.IO;

/// <summary>One decoded file from an <see cref="ImageFolderReader"/>.</summary>
/// <param name="Index">Position of the file in the reader's sorted file list (skipped files keep their index).</param>
/// <param name="Path">The file's full path.</param>
/// <param name="RelativePath">The path relative to the folder read, with '/' separators (the file name for a file list).</param>
/// <param name="Image">The decoded (and transformed) image.</param>
public sealed record LoadedImage(int Index, string Path, string RelativePath, PixelImage Image);
