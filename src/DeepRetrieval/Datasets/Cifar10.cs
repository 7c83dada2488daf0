namespace DeepRetrieval.Datasets;

/// <summary>
/// CIFAR-10 (Krizhevsky, 2009), binary version: 50,000 training and 10,000 test 32×32 colour images in 10 classes,
/// read from <c>cifar-10-batches-bin</c> (or the <c>cifar-10-binary.tar.gz</c> archive, extracted on first load).
/// </summary>
public static class Cifar10
{
    /// <summary>The archive, from the dataset's page, with its published MD5.</summary>
    public static DatasetFile Archive { get; } =
        new("cifar-10-binary.tar.gz", new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), "c32a1d4ab5d03f1284b67883e8d87530");

    /// <summary>Folder the archive unpacks to.</summary>
    public const string FolderName = "cifar-10-batches-bin";

    /// <summary>The class names, indexed by label (also in <c>batches.meta.txt</c>).</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        Array.AsReadOnly(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]);

    /// <summary>Loads both splits.</summary>
    /// <param name="root">A directory holding <c>cifar-10-batches-bin</c>, its files, or the archive.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither the files nor the archive are there.</exception>
    /// <exception cref="InvalidDataException">A file is not CIFAR-10 binary data.</exception>
    public static (ImageCollection Train, ImageCollection Test) Load(string root)
    {
        string folder = CifarBinary.Locate(root, FolderName, "test_batch.bin", Archive, nameof(Cifar10));
        var train = new List<DatasetImage>(50_000);
        for (int b = 1; b <= 5; b++)
        {
            string batch = Path.Combine(folder, $"data_batch_{b}.bin");
            if (!File.Exists(batch)) throw new FileNotFoundException($"CIFAR-10 file '{batch}' is missing.", batch);
            CifarBinary.Read(batch, labelBytes: 1, labelIndex: 0, classCount: 10, "train", train);
        }

        var test = new List<DatasetImage>(10_000);
        CifarBinary.Read(Path.Combine(folder, "test_batch.bin"), 1, 0, 10, "test", test);
        return (new ImageCollection("cifar10/train", train, ClassNames), new ImageCollection("cifar10/test", test, ClassNames));
    }

    /// <summary>Downloads the archive into <paramref name="root"/> (resumable, MD5-checked); <see cref="Load"/> unpacks it.</summary>
    /// <param name="root">Destination directory.</param>
    /// <param name="httpClient">Client for the requests; null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public static Task DownloadAsync(string root, HttpClient? httpClient = null, IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        DatasetDownloader.DownloadAsync(root, [Archive], httpClient, null, progress, cancellationToken);
}
