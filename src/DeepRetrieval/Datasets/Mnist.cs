using DeepRetrieval.Data;

namespace DeepRetrieval.Datasets;

/// <summary>
/// MNIST (LeCun, Cortes and Burges): 28×28 grey digits, 60,000 for training and 10,000 for testing, in the four IDX
/// files (plain or gzip), downloaded from the mirror torchvision uses and checked against its MD5 checksums.
/// </summary>
public static class Mnist
{
    /// <summary>The mirror the files are downloaded from (yann.lecun.com no longer serves them reliably).</summary>
    public const string DownloadBaseUrl = "https://ossci-datasets.s3.amazonaws.com/mnist/";

    /// <summary>The four files, with torchvision's MD5 checksums.</summary>
    public static IReadOnlyList<DatasetFile> Files { get; } = Array.AsReadOnly(
    [
        new DatasetFile("train-images-idx3-ubyte.gz", new Uri(DownloadBaseUrl + "train-images-idx3-ubyte.gz"), "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        new DatasetFile("train-labels-idx1-ubyte.gz", new Uri(DownloadBaseUrl + "train-labels-idx1-ubyte.gz"), "d53e105ee54ea40749a09fcbcd1e9432"),
        new DatasetFile("t10k-images-idx3-ubyte.gz", new Uri(DownloadBaseUrl + "t10k-images-idx3-ubyte.gz"), "9fb629c4189551a2d022fa330f9573f3"),
        new DatasetFile("t10k-labels-idx1-ubyte.gz", new Uri(DownloadBaseUrl + "t10k-labels-idx1-ubyte.gz"), "ec29112dd5afa0611ce80d1b7f02629c"),
    ]);

    /// <summary>The digit names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = Array.AsReadOnly(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

    /// <summary>Loads the training and test images from a directory holding the four files (plain or <c>.gz</c>).</summary>
    /// <param name="directory">The directory.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or images and labels disagree.</exception>
    public static (ImageCollection Train, ImageCollection Test) Load(string directory)
    {
        DatasetFolders.Require(directory, "MNIST", "Download it with Mnist.DownloadAsync.");
        return (Split(directory, "train", Files[0].FileName, Files[1].FileName), Split(directory, "test", Files[2].FileName, Files[3].FileName));
    }

    /// <summary>Downloads the four files into <paramref name="directory"/> (resumable, MD5-checked; present files are kept).</summary>
    /// <param name="directory">Destination directory.</param>
    /// <param name="httpClient">Client for the requests (proxies, timeouts); null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="HttpRequestException">The server could not be reached; the message says where to put a copy.</exception>
    /// <exception cref="InvalidDataException">A file has the wrong checksum.</exception>
    public static Task DownloadAsync(string directory, HttpClient? httpClient = null, IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        DatasetDownloader.DownloadAsync(directory, Files, httpClient, validate: null, progress, cancellationToken);

    private static ImageCollection Split(string directory, string split, string imagesFile, string labelsFile)
    {
        IdxImages images = IdxReader.ReadImages(Find(directory, imagesFile));
        byte[] labels = IdxReader.ReadLabels(Find(directory, labelsFile));
        if (images.Count != labels.Length)
            throw new InvalidDataException($"MNIST {split}: {images.Count} images but {labels.Length} labels.");
        int bad = labels.AsSpan().IndexOfAnyInRange((byte)10, byte.MaxValue);
        if (bad >= 0) throw new InvalidDataException($"MNIST {split}: label {labels[bad]} at {bad} is not a digit.");
        var result = new DatasetImage[images.Count];
        int size = images.PixelsPerImage;
        for (int i = 0; i < result.Length; i++)
            result[i] = new DatasetImage($"{split}/{i}", labels[i], new RawImage(images.Columns, images.Rows, 1, images.Pixels.AsMemory(i * size, size)));
        return new ImageCollection($"mnist/{split}", result, ClassNames);
    }

    private static string Find(string directory, string gzipName)
    {
        string plain = Path.Combine(directory, gzipName[..^3]);
        if (File.Exists(plain)) return plain;
        string compressed = Path.Combine(directory, gzipName);
        return File.Exists(compressed) ? compressed
            : throw new FileNotFoundException($"MNIST file '{gzipName}' (or its unpacked form) is missing from '{directory}'. Download it with Mnist.DownloadAsync.", compressed);
    }
}
