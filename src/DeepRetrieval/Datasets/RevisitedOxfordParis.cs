using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Datasets;

/// <summary>
/// Revisited Oxford and Paris (Radenović et al., CVPR 2018) in revisitop's layout: <c>root/roxford5k/jpg/*.jpg</c> and
/// <c>root/roxford5k/gnd_roxford5k.pkl</c> (likewise <c>rparis6k</c>). The download fetches the ground truth from
/// cmp.felk.cvut.cz and the images from robots.ox.ac.uk, as revisitop's <c>download.py</c> does (neither publishes
/// checksums; the pickle is checked by parsing it and every image it names must be present).
/// </summary>
public static class RevisitedOxfordParis
{
    /// <summary>Revisited Oxford.</summary>
    public const string Oxford = "roxford5k";

    /// <summary>Revisited Paris.</summary>
    public const string Paris = "rparis6k";

    /// <summary>The files of one dataset: the ground-truth pickle, then the image archives.</summary>
    /// <param name="name"><see cref="Oxford"/> or <see cref="Paris"/>.</param>
    public static IReadOnlyList<DatasetFile> Files(string name) => Check(name) switch
    {
        Oxford =>
        [
            Gnd(Oxford),
            new DatasetFile("oxbuild_images-v1.tgz", new Uri("https://www.robots.ox.ac.uk/~vgg/data/oxbuildings/oxbuild_images-v1.tgz")),
        ],
        _ =>
        [
            Gnd(Paris),
            new DatasetFile("paris_1-v1.tgz", new Uri("https://www.robots.ox.ac.uk/~vgg/data/parisbuildings/paris_1-v1.tgz")),
            new DatasetFile("paris_2-v1.tgz", new Uri("https://www.robots.ox.ac.uk/~vgg/data/parisbuildings/paris_2-v1.tgz")),
        ],
    };

    /// <summary>Loads a dataset, unpacking its image archives into <c>jpg/</c> first when the folder is missing.</summary>
    /// <param name="root">The datasets folder (holding <c>roxford5k/</c> and/or <c>rparis6k/</c>).</param>
    /// <param name="name"><see cref="Oxford"/> or <see cref="Paris"/>.</param>
    /// <exception cref="FileNotFoundException">The ground truth or an image it names is missing.</exception>
    /// <exception cref="InvalidDataException">The ground truth is malformed.</exception>
    public static RevisitedDataset Load(string root, string name)
    {
        Check(name);
        string directory = Path.Combine(root, name);
        DatasetFolders.Require(directory, name, "Download it with RevisitedOxfordParis.DownloadAsync.");
        string gnd = Path.Combine(directory, $"gnd_{name}.pkl");
        if (!File.Exists(gnd)) throw new FileNotFoundException($"{name}: the ground truth '{gnd}' is missing. Download it with RevisitedOxfordParis.DownloadAsync.", gnd);
        RevisitedGroundTruth truth = RevisitedGroundTruth.Read(gnd);
        string images = Path.Combine(directory, "jpg");
        if (!Directory.Exists(images)) UnpackImages(directory, name);

        DatasetImage Image(string imageName)
        {
            string path = Path.Combine(images, imageName + ".jpg");
            return File.Exists(path) ? new DatasetImage(imageName, -1, path)
                : throw new FileNotFoundException($"{name}: image '{path}' named by the ground truth is missing.", path);
        }

        return new RevisitedDataset(name,
            new ImageCollection($"{name}/database", truth.ImageNames.Select(Image).ToArray(), []),
            new ImageCollection($"{name}/queries", truth.Queries.Select(q => Image(q.Name)).ToArray(), []),
            truth);
    }

    /// <summary>Downloads the ground truth and the image archives into <c>root/name</c> (resumable); <see cref="Load"/> unpacks them.</summary>
    /// <param name="root">The datasets folder.</param>
    /// <param name="name"><see cref="Oxford"/> or <see cref="Paris"/>.</param>
    /// <param name="httpClient">Client for the requests; null for a default one.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public static Task DownloadAsync(string root, string name, HttpClient? httpClient = null, IProgress<DatasetDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        DatasetDownloader.DownloadAsync(Path.Combine(root, Check(name)), Files(name), httpClient,
            path => { if (path.EndsWith(".pkl.part", StringComparison.Ordinal) || path.EndsWith(".pkl", StringComparison.Ordinal)) RevisitedGroundTruth.Read(path); },
            progress, cancellationToken);

    // revisitop moves every file of the archives, whatever their folders, straight into jpg/.
    private static void UnpackImages(string directory, string name)
    {
        string[] archives = Files(name).Skip(1).Select(f => Path.Combine(directory, f.FileName)).ToArray();
        string? missing = archives.FirstOrDefault(a => !File.Exists(a));
        if (missing is not null)
            throw new FileNotFoundException($"{name}: neither '{Path.Combine(directory, "jpg")}' nor the archive '{missing}' is there. Download it with RevisitedOxfordParis.DownloadAsync.", missing);
        string staging = Path.Combine(directory, "jpg-unpacking");
        foreach (string archive in archives) ArchiveExtractor.Extract(archive, staging);
        string target = Path.Combine(directory, "jpg") + $".{Guid.NewGuid():N}.tmp";
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(staging, "*", SearchOption.AllDirectories))
            File.Move(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        Directory.Delete(staging, recursive: true);
        Directory.Move(target, Path.Combine(directory, "jpg"));
    }

    private static DatasetFile Gnd(string name) => new($"gnd_{name}.pkl", new Uri($"http://cmp.felk.cvut.cz/revisitop/data/datasets/{name}/gnd_{name}.pkl"));

    private static string Check(string name) => name is Oxford or Paris
        ? name
        : throw new ArgumentException($"Unknown revisited dataset '{name}'; use '{Oxford}' or '{Paris}'.", nameof(name));
}
