using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Resources;
using DeepRetrieval.Data;

namespace DeepRetrieval.Datasets;

/// <summary>
/// The Fashion-MNIST dataset (Zalando Research, MIT licence): 28×28 grey-scale images of clothing in 10 classes,
/// 60,000 for training and 10,000 for testing, stored as four IDX files. Loads from a directory (plain or gzip
/// files), from streams (e.g. an embedded subset), or downloads the official files.
/// </summary>
public sealed class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the four gzip files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Environment variable that <see cref="TryFindDefault"/> checks first for a dataset directory.</summary>
    public const string DirectoryEnvironmentVariable = "FASHION_MNIST_DIR";

    /// <summary>Where Zalando publishes the four gzip files (the S3 website endpoint serves plain HTTP only).</summary>
    public const string DownloadBaseUrl = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

    /// <summary>Name of the training image file, without the <c>.gz</c> suffix it is distributed with.</summary>
    public const string TrainImagesFileName = "train-images-idx3-ubyte";

    /// <summary>Name of the training label file, without the <c>.gz</c> suffix it is distributed with.</summary>
    public const string TrainLabelsFileName = "train-labels-idx1-ubyte";

    /// <summary>Name of the test image file, without the <c>.gz</c> suffix it is distributed with.</summary>
    public const string TestImagesFileName = "t10k-images-idx3-ubyte";

    /// <summary>Name of the test label file, without the <c>.gz</c> suffix it is distributed with.</summary>
    public const string TestLabelsFileName = "t10k-labels-idx1-ubyte";

    /// <summary>Height and width of every image.</summary>
    public const int ImageSide = 28;

    /// <summary>Number of classes; labels are 0 .. ClassCount − 1.</summary>
    public const int ClassCount = 10;

    /// <summary>Number of training images in the full dataset.</summary>
    public const int FullTrainCount = 60_000;

    /// <summary>Number of test images in the full dataset.</summary>
    public const int FullTestCount = 10_000;

    private const string GzipSuffix = ".gz";

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = Array.AsReadOnly(
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]);

    /// <summary>
    /// The four file names without <c>.gz</c>, in the order training images, training labels, test images, test labels.
    /// </summary>
    public static IReadOnlyList<string> FileNames { get; } = Array.AsReadOnly(
    [
        TrainImagesFileName, TrainLabelsFileName, TestImagesFileName, TestLabelsFileName,
    ]);

    /// <summary>Assembles a dataset from already-loaded parts (e.g. a subset).</summary>
    /// <param name="trainImages">Training images, 28×28.</param>
    /// <param name="trainLabels">One label (0..9) per training image.</param>
    /// <param name="testImages">Test images, 28×28.</param>
    /// <param name="testLabels">One label (0..9) per test image.</param>
    /// <exception cref="ArgumentException">Counts differ, an image is not 28×28, or a label is out of range.</exception>
    public FashionMnist(IdxImages trainImages, byte[] trainLabels, IdxImages testImages, byte[] testLabels)
    {
        ArgumentNullException.ThrowIfNull(trainImages);
        ArgumentNullException.ThrowIfNull(trainLabels);
        ArgumentNullException.ThrowIfNull(testImages);
        ArgumentNullException.ThrowIfNull(testLabels);
        if (FindProblem(trainImages, trainLabels) is string trainProblem)
            throw new ArgumentException($"Training set: {trainProblem}.", nameof(trainImages));
        if (FindProblem(testImages, testLabels) is string testProblem)
            throw new ArgumentException($"Test set: {testProblem}.", nameof(testImages));
        TrainImages = trainImages;
        TrainLabels = trainLabels;
        TestImages = testImages;
        TestLabels = testLabels;
    }

    /// <summary>Training images (60,000 in the full dataset).</summary>
    public IdxImages TrainImages { get; }

    /// <summary>Training labels, 0..9, one per training image.</summary>
    public byte[] TrainLabels { get; }

    /// <summary>Test images (10,000 in the full dataset).</summary>
    public IdxImages TestImages { get; }

    /// <summary>Test labels, 0..9, one per test image.</summary>
    public byte[] TestLabels { get; }

    /// <summary>
    /// Loads the four standard files from a directory. Each may be plain or gzip-compressed
    /// (<c>train-images-idx3-ubyte</c> or <c>train-images-idx3-ubyte.gz</c>, and so on); a plain file is preferred.
    /// </summary>
    /// <param name="directory">Directory holding the files, e.g. <see cref="DebianDirectory"/>.</param>
    /// <param name="maxTrain">Load at most this many training items; null loads all.</param>
    /// <param name="maxTest">Load at most this many test items; null loads all.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the four files is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or not consistent with Fashion-MNIST.</exception>
    public static FashionMnist Load(string directory, int? maxTrain = null, int? maxTest = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        DataStreams.RequireNonNegative(maxTrain, nameof(maxTrain));
        DataStreams.RequireNonNegative(maxTest, nameof(maxTest));
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Fashion-MNIST directory '{directory}' does not exist.");
        return LoadCore(
            fileName =>
            {
                string path = FindFile(directory, fileName)
                    ?? throw new FileNotFoundException(
                        $"Fashion-MNIST file '{fileName}' (or '{fileName}{GzipSuffix}') is missing from '{directory}'.",
                        Path.Combine(directory, fileName + GzipSuffix));
                return (DataStreams.OpenRead(path), path);
            },
            maxTrain,
            maxTest);
    }

    /// <summary>
    /// Loads the four files from streams, e.g. manifest resources of an embedded subset. Compression is detected
    /// from the content, so the streams may be plain or gzip.
    /// </summary>
    /// <param name="open">
    /// Called once per file with its name as distributed, with <c>.gz</c>: <c>train-images-idx3-ubyte.gz</c>,
    /// <c>train-labels-idx1-ubyte.gz</c>, <c>t10k-images-idx3-ubyte.gz</c>, <c>t10k-labels-idx1-ubyte.gz</c>.
    /// Returns a readable stream positioned at the start of that file; it is disposed after reading.
    /// </param>
    /// <param name="maxTrain">Load at most this many training items; null loads all.</param>
    /// <param name="maxTest">Load at most this many test items; null loads all.</param>
    /// <exception cref="InvalidDataException">A stream is malformed or not consistent with Fashion-MNIST.</exception>
    public static FashionMnist Load(Func<string, Stream> open, int? maxTrain = null, int? maxTest = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        DataStreams.RequireNonNegative(maxTrain, nameof(maxTrain));
        DataStreams.RequireNonNegative(maxTest, nameof(maxTest));
        return LoadCore(
            fileName =>
            {
                string name = fileName + GzipSuffix;
                Stream stream = open(name) ?? throw new InvalidOperationException($"The open callback returned null for '{name}'.");
                return (stream, name);
            },
            maxTrain,
            maxTest);
    }

    /// <summary>
    /// Loads the four files from manifest resources of <paramref name="assembly"/>. A resource matches a file when its
    /// name is the file name (with or without <c>.gz</c>) or ends with <c>.</c> followed by it, so both
    /// <c>LogicalName="%(Filename)%(Extension)"</c> and the default namespace-qualified names work.
    /// </summary>
    /// <param name="assembly">Assembly embedding the files.</param>
    /// <param name="maxTrain">Load at most this many training items; null loads all.</param>
    /// <param name="maxTest">Load at most this many test items; null loads all.</param>
    /// <exception cref="MissingManifestResourceException">A file is not embedded.</exception>
    /// <exception cref="InvalidDataException">A resource is malformed or not consistent with Fashion-MNIST.</exception>
    public static FashionMnist LoadFromResources(Assembly assembly, int? maxTrain = null, int? maxTest = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        DataStreams.RequireNonNegative(maxTrain, nameof(maxTrain));
        DataStreams.RequireNonNegative(maxTest, nameof(maxTest));
        string[] resources = assembly.GetManifestResourceNames();
        return LoadCore(
            fileName =>
            {
                string resource = FindResource(resources, fileName + GzipSuffix)
                    ?? FindResource(resources, fileName)
                    ?? throw new MissingManifestResourceException(
                        $"Assembly '{assembly.GetName().Name}' has no manifest resource for Fashion-MNIST file '{fileName}{GzipSuffix}'.");
                Stream stream = assembly.GetManifestResourceStream(resource)
                    ?? throw new MissingManifestResourceException($"Manifest resource '{resource}' could not be opened.");
                return (stream, resource);
            },
            maxTrain,
            maxTest);
    }

    /// <summary>True when <paramref name="directory"/> holds all four files, each plain or gzip.</summary>
    /// <param name="directory">Directory to check.</param>
    public static bool ContainsDataset(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return directory.Length > 0 && Directory.Exists(directory) && FileNames.All(name => FindFile(directory, name) is not null);
    }

    /// <summary>
    /// Looks for a directory holding the dataset: first the one named by the <see cref="DirectoryEnvironmentVariable"/>
    /// environment variable, then <see cref="DebianDirectory"/>.
    /// </summary>
    /// <param name="directory">The directory found, or null.</param>
    /// <returns>True when a directory with all four files was found.</returns>
    public static bool TryFindDefault([NotNullWhen(true)] out string? directory)
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(DirectoryEnvironmentVariable);
        foreach (string? candidate in new[] { fromEnvironment, DebianDirectory })
        {
            if (!string.IsNullOrEmpty(candidate) && ContainsDataset(candidate))
            {
                directory = candidate;
                return true;
            }
        }
        directory = null;
        return false;
    }

    /// <summary>
    /// Downloads the four gzip files from <see cref="DownloadBaseUrl"/> into <paramref name="directory"/> (created if
    /// needed). Each file goes to a <c>.part</c> file (an interrupted download resumes from it), is checked against
    /// Zalando's published MD5 and with the IDX reader, and is then renamed into place, so a partial or corrupt file is
    /// never left under the final name. Files already present and valid (plain or gzip) are kept.
    /// </summary>
    /// <param name="directory">Destination directory.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="HttpRequestException">The server could not be reached or answered with an error; the message says where to put a copy fetched by other means.</exception>
    /// <exception cref="InvalidDataException">A downloaded file has the wrong checksum or is not a valid Fashion-MNIST file.</exception>
    public static Task DownloadAsync(
        string directory, IProgress<FashionMnistDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return DownloadCoreAsync(directory, null, new Uri(DownloadBaseUrl), progress, cancellationToken);
    }

    /// <summary>
    /// Like <see cref="DownloadAsync(string, IProgress{FashionMnistDownloadProgress}?, CancellationToken)"/>, with a
    /// caller-supplied client (proxies, timeouts, handlers) and base address (e.g. a mirror).
    /// </summary>
    /// <param name="directory">Destination directory.</param>
    /// <param name="httpClient">Client used for the requests; not disposed.</param>
    /// <param name="baseUri">Address the four <c>.gz</c> file names are resolved against; should end with '/'.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="HttpRequestException">The server could not be reached or answered with an error.</exception>
    /// <exception cref="InvalidDataException">A downloaded file has the wrong checksum or is not a valid Fashion-MNIST file.</exception>
    public static Task DownloadAsync(
        string directory,
        HttpClient httpClient,
        Uri baseUri,
        IProgress<FashionMnistDownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(baseUri);
        return DownloadCoreAsync(directory, httpClient, baseUri, progress, cancellationToken);
    }

    private static async Task DownloadCoreAsync(
        string directory, HttpClient? httpClient, Uri baseUri, IProgress<FashionMnistDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var missing = new List<DatasetFile>();
        for (int index = 0; index < FileNames.Count; index++)
        {
            string fileName = FileNames[index] + GzipSuffix;
            string plain = Path.Combine(directory, FileNames[index]);
            if (File.Exists(plain) && IsValidFile(plain, index))
            {
                long length = new FileInfo(plain).Length;
                progress?.Report(new FashionMnistDownloadProgress(fileName, index, FileNames.Count, length, length));
                continue;
            }

            missing.Add(new DatasetFile(fileName, new Uri(baseUri, fileName), PublishedMd5[index]));
        }

        var forward = progress is null ? null : new SynchronousProgress(p =>
        {
            int index = IndexOf(p.FileName);
            progress.Report(new FashionMnistDownloadProgress(p.FileName, index, FileNames.Count, p.BytesReceived, p.TotalBytes));
        });
        await DatasetDownloader.DownloadAsync(directory, missing, httpClient, path => ValidateFile(path, IndexOf(Path.GetFileName(path))),
            forward, cancellationToken).ConfigureAwait(false);

        static int IndexOf(string fileName)
        {
            string name = fileName.EndsWith(".part", StringComparison.Ordinal) ? fileName[..^".part".Length] : fileName;
            for (int i = 0; i < FileNames.Count; i++)
                if (name == FileNames[i] + GzipSuffix) return i;
            throw new InvalidOperationException($"'{fileName}' is not a Fashion-MNIST file.");
        }
    }

    // Zalando's published MD5 of the four .gz files, in the order of FileNames.
    private static readonly string[] PublishedMd5 =
    [
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe", "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310",
    ];

    private sealed class SynchronousProgress(Action<DatasetDownloadProgress> report) : IProgress<DatasetDownloadProgress>
    {
        public void Report(DatasetDownloadProgress value) => report(value);
    }

    private static bool IsValidFile(string path, int index)
    {
        try
        {
            ValidateFile(path, index);
            return true;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void ValidateFile(string path, int index)
    {
        int expected = index < 2 ? FullTrainCount : FullTestCount;
        if (index % 2 == 0)
        {
            IdxImages images = IdxReader.ReadImages(path);
            if (images.Count != expected || images.Rows != ImageSide || images.Columns != ImageSide)
                throw DataStreams.Invalid(path,
                    $"expected {expected} images of {ImageSide}×{ImageSide}, got {images.Count} of {images.Rows}×{images.Columns}");
        }
        else
        {
            byte[] labels = IdxReader.ReadLabels(path);
            if (labels.Length != expected)
                throw DataStreams.Invalid(path, $"expected {expected} labels, got {labels.Length}");
            if (FindBadLabel(labels) is string problem)
                throw DataStreams.Invalid(path, problem);
        }
    }

    private static FashionMnist LoadCore(Func<string, (Stream Stream, string Name)> open, int? maxTrain, int? maxTest)
    {
        (IdxImages trainImages, string trainImagesName) = Read(open, TrainImagesFileName, s => IdxReader.ReadImages(s.Stream, maxTrain, s.Name));
        (byte[] trainLabels, string trainLabelsName) = Read(open, TrainLabelsFileName, s => IdxReader.ReadLabels(s.Stream, maxTrain, s.Name));
        (IdxImages testImages, string testImagesName) = Read(open, TestImagesFileName, s => IdxReader.ReadImages(s.Stream, maxTest, s.Name));
        (byte[] testLabels, string testLabelsName) = Read(open, TestLabelsFileName, s => IdxReader.ReadLabels(s.Stream, maxTest, s.Name));

        Check(trainImages, trainLabels, trainImagesName, trainLabelsName);
        Check(testImages, testLabels, testImagesName, testLabelsName);
        return new FashionMnist(trainImages, trainLabels, testImages, testLabels);

        static (T Value, string Name) Read<T>(
            Func<string, (Stream Stream, string Name)> open, string fileName, Func<(Stream Stream, string Name), T> read)
        {
            (Stream stream, string name) = open(fileName);
            using (stream)
                return (read((stream, name)), name);
        }

        static void Check(IdxImages images, byte[] labels, string imagesName, string labelsName)
        {
            if (images.Rows != ImageSide || images.Columns != ImageSide)
                throw DataStreams.Invalid(imagesName,
                    $"Fashion-MNIST images are {ImageSide}×{ImageSide}, but this file holds {images.Rows}×{images.Columns} images");
            if (images.Count != labels.Length)
                throw new InvalidDataException(
                    $"'{imagesName}' holds {images.Count} images but '{labelsName}' holds {labels.Length} labels; the counts must match.");
            if (FindBadLabel(labels) is string problem)
                throw DataStreams.Invalid(labelsName, problem);
        }
    }

    private static string? FindProblem(IdxImages images, byte[] labels)
    {
        if (images.Rows != ImageSide || images.Columns != ImageSide)
            return $"images must be {ImageSide}×{ImageSide}, got {images.Rows}×{images.Columns}";
        if (images.Count != labels.Length)
            return $"{images.Count} images but {labels.Length} labels";
        return FindBadLabel(labels);
    }

    private static string? FindBadLabel(byte[] labels)
    {
        int bad = labels.AsSpan().IndexOfAnyInRange((byte)ClassCount, byte.MaxValue);
        return bad < 0 ? null : $"label {labels[bad]} at index {bad} is outside 0..{ClassCount - 1}";
    }

    private static string? FindFile(string directory, string fileName)
    {
        string plain = Path.Combine(directory, fileName);
        if (File.Exists(plain))
            return plain;
        string compressed = plain + GzipSuffix;
        return File.Exists(compressed) ? compressed : null;
    }

    private static string? FindResource(string[] resources, string fileName)
    {
        string suffix = "." + fileName;
        return Array.Find(resources, r => r == fileName) ?? Array.Find(resources, r => r.EndsWith(suffix, StringComparison.Ordinal));
    }
}
