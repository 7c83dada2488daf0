namespace DeepRetrieval.Datasets;

/// <summary>Folder plumbing the loaders share: checked directories and sorted image listings.</summary>
internal static class DatasetFolders
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".webp"];

    /// <summary>Throws an offline-friendly error when a dataset folder is missing.</summary>
    public static void Require(string directory, string dataset, string how)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{dataset}: '{directory}' does not exist. {how}");
    }

    /// <summary>The image files directly in <paramref name="directory"/>, sorted by name (ordinal).</summary>
    public static string[] Images(string directory)
    {
        string[] files = Directory.GetFiles(directory).Where(IsImage).ToArray();
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>The subdirectories of <paramref name="directory"/>, sorted by name (ordinal).</summary>
    public static string[] Subdirectories(string directory)
    {
        string[] directories = Directory.GetDirectories(directory);
        Array.Sort(directories, StringComparer.Ordinal);
        return directories;
    }

    public static bool IsImage(string path) => ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}
