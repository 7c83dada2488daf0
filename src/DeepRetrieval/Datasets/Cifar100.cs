namespace DeepRetrieval.Datasets;

/// <summary>
/// CIFAR-100 (Krizhevsky, 2009), binary version: 50,000 training and 10,000 test 32×32 colour images, each with a
/// coarse (20 superclasses) and a fine (100 classes) label, read from <c>cifar-100-binary</c> (or the
/// <c>cifar-100-binary.tar.gz</c> archive, extracted on first load).
/// </summary>
public static class Cifar100
{
    /// <summary>The archive, from the dataset's page, with its published MD5.</summary>
    public static DatasetFile Archive { get; } =
        new("cifar-100-binary.tar.gz", new Uri("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"), "03b5dce01913d631647c71ecec9e9cb8");

    /// <summary>Folder the archive unpacks to.</summary>
    public const string FolderName = "cifar-100-binary";

    /// <summary>Loads both splits with the fine (100-class) or coarse (20-superclass) labels.</summary>
    /// <param name="root">A directory holding <c>cifar-100-binary</c>, its files, or the archive.</param>
    /// <param name="coarseLabels">True for the 20 superclasses, false (default) for the 100 classes.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither the files nor the archive are there.</exception>
    /// <exception cref="InvalidDataException">A file is not CIFAR-100 binary data.</exception>
    public static (ImageCollection Train, ImageCollection Test) Load(string root, bool coarseLabels = false)
    {
        string folder = CifarBinary.Locate(root, FolderName, "test.bin", Archive, nameof(Cifar100));
        int labelIndex = coarseLabels ? 0 : 1, classes = coarseLabels ? 20 : 100;
        string[] names = CifarBinary.ReadNames(Path.Combine(folder, coarseLabels ? "coarse_label_names.txt" : "fine_label_names.txt"));
        var train = new List<DatasetImage>(50_000);
        string trainFile = Path.Combine(folder, "train.bin");
        if (!File.Exists(trainFile)) throw new FileNotFoundException($"CIFAR-100 file '{trainFile}' is missing.", trainFile);
        CifarBinary.Read(trainFile, labelBytes: 2, labelIndex, classes, "train", train);
        var test = new List<DatasetImage>(10_000);
        CifarBinary.Read(Path.Combine(folder, "test.bin"), 2, labelIndex, classes, "test", test);
        return (new ImageCollection("cifar100/train", train, names), new ImageCollection("cifar100/test", test, names));
    }

    /// <summary>Downloads the archive into <paramref name="root"/> (resumable, MD5-checked); <see cref="Load"/> unpacks it.</summary>
    /// <param name="root">Destination directory.</param>
    /// <param name="httpClient">Client for the requests; null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public static Task DownloadAsync(string root, HttpClient? httpClient = null, IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        DatasetDownloader.DownloadAsync(root, [Archive], httpClient, null, progress, cancellationToken);
}
