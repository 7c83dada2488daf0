namespace DeepRetrieval.Datasets;

/// <summary>
/// Caltech-101 (Fei-Fei, Fergus and Perona, 2004): 101 object classes (the <c>BACKGROUND_Google</c> folder is left
/// out, as torchvision does) in <c>101_ObjectCategories/&lt;class&gt;/</c>, with the standard per-class split: 30
/// training images per class and up to 50 test images from the rest (see <see cref="Load"/>).
/// </summary>
public static class Caltech101
{
    /// <summary>The image archive with torchvision's MD5 (what <see cref="Load"/> unpacks when the folder is absent).</summary>
    public static DatasetFile ImageArchive { get; } = new("101_ObjectCategories.tar.gz",
        new Uri("https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip"), "b224c7392d521a49829488ab0f1120d9");

    /// <summary>The zip data.caltech.edu serves, which holds <see cref="ImageArchive"/> (no checksum is published for the zip).</summary>
    public static DatasetFile Download { get; } = new("caltech-101.zip", new Uri("https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip"));

    /// <summary>Folder of the class folders.</summary>
    public const string FolderName = "101_ObjectCategories";

    /// <summary>Loads the per-class split.</summary>
    /// <param name="root">A directory holding <c>101_ObjectCategories</c>, <c>101_ObjectCategories.tar.gz</c> or <c>caltech-101.zip</c>.</param>
    /// <param name="trainPerClass">Training images per class (30 is the standard; 15 the other common setting).</param>
    /// <param name="testPerClass">Test images per class from the rest (50 is the standard); null takes all the rest.</param>
    /// <param name="seed">Seed of the per-class shuffle.</param>
    /// <exception cref="DirectoryNotFoundException">Neither the folder nor an archive is there.</exception>
    /// <exception cref="InvalidDataException">A class has too few images.</exception>
    public static (ImageCollection Train, ImageCollection Test) Load(string root, int trainPerClass = 30, int? testPerClass = 50, int seed = 0)
    {
        string categories = CaltechSplit.Locate(root, FolderName, nameof(Caltech101), ImageArchive.FileName, Download.FileName);
        return CaltechSplit.Load(categories, "caltech101", name => name != "BACKGROUND_Google", name => name, trainPerClass, testPerClass, seed);
    }

    /// <summary>
    /// Downloads the zip into <paramref name="root"/> (resumable) and checks the image archive inside it against its
    /// MD5; <see cref="Load"/> unpacks it.
    /// </summary>
    /// <param name="root">Destination directory.</param>
    /// <param name="httpClient">Client for the requests; null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="InvalidDataException">The zip does not hold the expected image archive.</exception>
    public static async Task DownloadAsync(string root, HttpClient? httpClient = null, IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (File.Exists(Path.Combine(root, ImageArchive.FileName)) && DatasetDownloader.Md5Of(Path.Combine(root, ImageArchive.FileName)) == ImageArchive.Md5) return;
        await DatasetDownloader.DownloadAsync(root, [Download], httpClient, null, progress, cancellationToken).ConfigureAwait(false);
        string unpacked = Path.Combine(root, "caltech-101-zip");
        ArchiveExtractor.Extract(Path.Combine(root, Download.FileName), unpacked, cancellationToken);
        string inner = Directory.GetFiles(unpacked, ImageArchive.FileName, SearchOption.AllDirectories).FirstOrDefault()
            ?? throw new InvalidDataException($"'{Download.FileName}' does not hold {ImageArchive.FileName}.");
        string md5 = DatasetDownloader.Md5Of(inner);
        if (md5 != ImageArchive.Md5)
            throw new InvalidDataException($"{ImageArchive.FileName} inside '{Download.FileName}' has MD5 {md5}, not {ImageArchive.Md5}.");
        File.Move(inner, Path.Combine(root, ImageArchive.FileName), overwrite: true);
        Directory.Delete(unpacked, recursive: true);
    }
}
