using System.Globalization;
using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Datasets;

/// <summary>
/// Google Landmarks v2 (Weyand et al., CVPR 2020) in its official layout: the CSV files (<c>train.csv</c>:
/// id,url,landmark_id; <c>train_clean.csv</c>: landmark_id,images; <c>index.csv</c> and <c>test.csv</c>: id, …; the
/// v2.1 solutions) and each split's images at <c>root/split/a/b/c/id.jpg</c> (a, b, c the first three characters of
/// the id). The download fetches the CSVs and any range of a split's 500 (train), 100 (index) or 20 (test) TAR files,
/// each checked against the MD5 file published next to it.
/// </summary>
public static class GoogleLandmarksV2
{
    /// <summary>Where the images and checksums are published.</summary>
    public const string BaseUrl = "https://s3.amazonaws.com/google-landmark/";

    /// <summary>The splits and how many TAR files each has.</summary>
    public static IReadOnlyDictionary<string, int> ArchiveCounts { get; } = new Dictionary<string, int> { ["train"] = 500, ["index"] = 100, ["test"] = 20 };

    /// <summary>The metadata and ground-truth CSV files.</summary>
    public static IReadOnlyList<DatasetFile> MetadataFiles { get; } = Array.AsReadOnly(
    [
        .. new[] { "train.csv", "train_clean.csv", "index.csv", "test.csv" }.Select(n => new DatasetFile(n, new Uri(BaseUrl + "metadata/" + n))),
        .. new[] { "recognition_solution_v2.1.csv", "retrieval_solution_v2.1.csv" }.Select(n => new DatasetFile(n, new Uri(BaseUrl + "ground_truth/" + n))),
    ]);

    /// <summary>Where an image of a split lives: <c>root/split/a/b/c/id.jpg</c>.</summary>
    /// <param name="root">The dataset folder.</param>
    /// <param name="split"><c>train</c>, <c>index</c> or <c>test</c>.</param>
    /// <param name="id">The image id (at least three characters).</param>
    public static string ImagePath(string root, string split, string id)
    {
        if (id is null || id.Length < 3 || id.IndexOfAny(['/', '\\', '.']) >= 0)
            throw new ArgumentException($"'{id}' is not a Google Landmarks image id.", nameof(id));
        return Path.Combine(root, split, id[..1], id[1..2], id[2..3], id + ".jpg");
    }

    /// <summary>Loads the training images labelled with their landmark ids, from <c>train.csv</c> or <c>train_clean.csv</c>.</summary>
    /// <param name="root">The dataset folder (the CSVs and the <c>train/</c> images).</param>
    /// <param name="clean">Read <c>train_clean.csv</c> (the cleaned subset) instead of <c>train.csv</c>.</param>
    /// <param name="onlyDownloaded">Keep only the images whose file is present (most users fetch part of the 500 archives).</param>
    /// <exception cref="FileNotFoundException">The CSV is missing.</exception>
    /// <exception cref="InvalidDataException">The CSV is malformed.</exception>
    public static ImageCollection LoadTrain(string root, bool clean = false, bool onlyDownloaded = true)
    {
        string csv = RequireCsv(root, clean ? "train_clean.csv" : "train.csv");
        var images = new List<DatasetImage>();
        void Add(string id, int landmark)
        {
            string path = ImagePath(root, "train", id);
            if (!onlyDownloaded || File.Exists(path)) images.Add(new DatasetImage(id, landmark, path));
        }

        ReadRows(csv, (header, row, line) =>
        {
            int landmark = Landmark(row[Column(header, "landmark_id", csv)], csv, line);
            if (clean)
                foreach (string id in row[Column(header, "images", csv)].Split(' ', StringSplitOptions.RemoveEmptyEntries)) Add(id, landmark);
            else
                Add(row[Column(header, "id", csv)], landmark);
        });
        return new ImageCollection(clean ? "gldv2/train_clean" : "gldv2/train", images, []);
    }

    /// <summary>Loads the index or test images (unlabelled, −1) listed in <c>index.csv</c> / <c>test.csv</c>.</summary>
    /// <param name="root">The dataset folder.</param>
    /// <param name="split"><c>index</c> or <c>test</c>.</param>
    /// <param name="onlyDownloaded">Keep only the images whose file is present.</param>
    public static ImageCollection LoadUnlabelled(string root, string split, bool onlyDownloaded = true)
    {
        if (split is not ("index" or "test")) throw new ArgumentException($"split must be 'index' or 'test', not '{split}'.", nameof(split));
        string csv = RequireCsv(root, split + ".csv");
        var images = new List<DatasetImage>();
        ReadRows(csv, (header, row, _) =>
        {
            string id = row[Column(header, "id", csv)];
            string path = ImagePath(root, split, id);
            if (!onlyDownloaded || File.Exists(path)) images.Add(new DatasetImage(id, -1, path));
        });
        return new ImageCollection("gldv2/" + split, images, []);
    }

    /// <summary>Reads <c>recognition_solution_v2.1.csv</c>.</summary>
    /// <param name="root">The dataset folder.</param>
    public static GoogleLandmarksSolution<long> ReadRecognitionSolution(string root)
    {
        using var reader = new StreamReader(RequireCsv(root, "recognition_solution_v2.1.csv"));
        return GoogleLandmarksCsv.ReadRecognitionSolution(reader, "recognition_solution_v2.1.csv");
    }

    /// <summary>Reads <c>retrieval_solution_v2.1.csv</c>.</summary>
    /// <param name="root">The dataset folder.</param>
    public static GoogleLandmarksSolution<string> ReadRetrievalSolution(string root)
    {
        using var reader = new StreamReader(RequireCsv(root, "retrieval_solution_v2.1.csv"));
        return GoogleLandmarksCsv.ReadRetrievalSolution(reader, "retrieval_solution_v2.1.csv");
    }

    /// <summary>Downloads the metadata and ground-truth CSVs into <paramref name="root"/> (resumable).</summary>
    /// <param name="root">The dataset folder.</param>
    /// <param name="httpClient">Client for the requests; null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public static Task DownloadMetadataAsync(string root, HttpClient? httpClient = null, IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        DatasetDownloader.DownloadAsync(root, MetadataFiles, httpClient, null, progress, cancellationToken);

    /// <summary>
    /// Downloads TAR files <paramref name="first"/> … <paramref name="first"/> + <paramref name="count"/> − 1 of a split,
    /// each checked against its published MD5 file, and unpacks them into <c>root/split</c>; the TAR is deleted once
    /// unpacked, and a TAR whose images are already unpacked is skipped.
    /// </summary>
    /// <param name="root">The dataset folder.</param>
    /// <param name="split"><c>train</c>, <c>index</c> or <c>test</c>.</param>
    /// <param name="first">Index of the first archive.</param>
    /// <param name="count">Number of archives.</param>
    /// <param name="httpClient">Client for the requests; null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the split's archives.</exception>
    /// <exception cref="InvalidDataException">An archive has the wrong checksum or its MD5 file is malformed.</exception>
    public static async Task DownloadImagesAsync(string root, string split, int first, int count, HttpClient? httpClient = null,
        IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!ArchiveCounts.TryGetValue(split ?? "", out int archives))
            throw new ArgumentException($"split must be train, index or test, not '{split}'.", nameof(split));
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (first + count > archives)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The {split} split has archives 0..{archives - 1}.");
        string downloads = Path.Combine(root, "archives", split!);
        HttpClient client = httpClient ?? new HttpClient();
        try
        {
            for (int i = first; i < first + count; i++)
            {
                string done = Path.Combine(downloads, $"images_{i:000}.unpacked");
                if (File.Exists(done)) continue;
                var md5File = new DatasetFile($"md5.images_{i:000}.txt", new Uri($"{BaseUrl}md5sum/{split}/md5.images_{i:000}.txt"));
                await DatasetDownloader.DownloadAsync(downloads, [md5File], client, null, null, cancellationToken).ConfigureAwait(false);
                string md5 = (await File.ReadAllTextAsync(Path.Combine(downloads, md5File.FileName), cancellationToken).ConfigureAwait(false))
                    .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
                if (md5.Length != 32 || !md5.All(char.IsAsciiHexDigit))
                    throw new InvalidDataException($"'{md5File.FileName}' does not start with an MD5 checksum.");
                var archive = new DatasetFile($"images_{i:000}.tar", new Uri($"{BaseUrl}{split}/images_{i:000}.tar"), md5.ToLowerInvariant());
                await DatasetDownloader.DownloadAsync(downloads, [archive], client, null, progress, cancellationToken).ConfigureAwait(false);
                string tar = Path.Combine(downloads, archive.FileName);
                ArchiveExtractor.Extract(tar, Path.Combine(root, split!), cancellationToken);
                await File.WriteAllTextAsync(done, md5, cancellationToken).ConfigureAwait(false);
                File.Delete(tar);
            }
        }
        finally
        {
            if (httpClient is null) client.Dispose();
        }
    }

    private static string RequireCsv(string root, string name)
    {
        DatasetFolders.Require(root, "Google Landmarks v2", "Download it with GoogleLandmarksV2.DownloadMetadataAsync.");
        string path = Path.Combine(root, name);
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"Google Landmarks v2: '{path}' is missing. Download it with GoogleLandmarksV2.DownloadMetadataAsync.", path);
    }

    private static void ReadRows(string csv, Action<List<string>, List<string>, int> row)
    {
        using var reader = new StreamReader(csv);
        List<string> header = CsvLines.Split(reader.ReadLine() ?? throw new InvalidDataException($"'{csv}' is empty."), csv, 1);
        foreach ((int line, List<string> fields) in CsvLines.Rows(reader, csv, linesRead: 1))
        {
            if (fields.Count != header.Count)
                throw new InvalidDataException($"'{csv}', line {line}: {fields.Count} fields where the header has {header.Count}.");
            row(header, fields, line);
        }
    }

    private static int Column(List<string> header, string name, string csv)
    {
        int index = header.IndexOf(name);
        return index >= 0 ? index : throw new InvalidDataException($"'{csv}' has no '{name}' column.");
    }

    private static int Landmark(string value, string csv, int line) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int landmark) ? landmark
            : throw new InvalidDataException($"'{csv}', line {line}: '{value}' is not a landmark id.");
}
