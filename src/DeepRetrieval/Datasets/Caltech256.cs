namespace DeepRetrieval.Datasets;

/// <summary>
/// Caltech-256 (Griffin, Holub and Perona, 2007): 256 object classes plus <c>257.clutter</c> (left out unless asked
/// for) in <c>256_ObjectCategories/NNN.name/</c>, with the standard per-class split of 30 (or 60) training images per
/// class and the rest for testing (see <see cref="Load"/>). Class names drop the <c>NNN.</c> prefix.
/// </summary>
public static class Caltech256
{
    /// <summary>The archive, with torchvision's MD5.</summary>
    public static DatasetFile Archive { get; } = new("256_ObjectCategories.tar",
        new Uri("https://data.caltech.edu/records/nyy15-4j048/files/256_ObjectCategories.tar?download=1"), "67b4f42ca05d46448c6bb8ecd2220f6d");

    /// <summary>Folder of the class folders.</summary>
    public const string FolderName = "256_ObjectCategories";

    /// <summary>Loads the per-class split.</summary>
    /// <param name="root">A directory holding <c>256_ObjectCategories</c> or its archive.</param>
    /// <param name="trainPerClass">Training images per class (30 or 60 in the literature).</param>
    /// <param name="testPerClass">Test images per class from the rest; null (default) takes all the rest.</param>
    /// <param name="seed">Seed of the per-class shuffle.</param>
    /// <param name="includeClutter">Keep <c>257.clutter</c> as a class.</param>
    /// <exception cref="DirectoryNotFoundException">Neither the folder nor the archive is there.</exception>
    /// <exception cref="InvalidDataException">A class has too few images.</exception>
    public static (ImageCollection Train, ImageCollection Test) Load(string root, int trainPerClass = 30, int? testPerClass = null, int seed = 0, bool includeClutter = false)
    {
        string categories = CaltechSplit.Locate(root, FolderName, nameof(Caltech256), Archive.FileName);
        return CaltechSplit.Load(categories, "caltech256", name => includeClutter || name != "257.clutter",
            name => name.IndexOf('.') is int dot and > 0 ? name[(dot + 1)..] : name, trainPerClass, testPerClass, seed);
    }

    /// <summary>Downloads the archive into <paramref name="root"/> (resumable, MD5-checked); <see cref="Load"/> unpacks it.</summary>
    /// <param name="root">Destination directory.</param>
    /// <param name="httpClient">Client for the requests; null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public static Task DownloadAsync(string root, HttpClient? httpClient = null, IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        DatasetDownloader.DownloadAsync(root, [Archive], httpClient, null, progress, cancellationToken);
}
