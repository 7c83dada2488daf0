using System.Text.RegularExpressions;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Imaging.Processing;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Samples.CopyDetection.Photos;

/// <summary>
/// Finds the photographs Debian packages ship (or those of the folders given) and keeps one file per picture: the packages
/// ship the same picture several times — KDE Plasma wallpapers in a dozen resolutions and a dark variant, MATE's
/// Elephants in three sizes, GNOME's light and dark pairs, Ubuntu MATE's four colourings — and such a twin left among
/// the distractors would be an unlabelled true copy.
/// </summary>
internal static partial class PhotoCatalog
{
    /// <summary>The folders searched by default: gnome-backgrounds, mate-backgrounds, plasma-workspace-wallpapers, python3-skimage.</summary>
    public static readonly IReadOnlyList<string> DefaultFolders =
    [
        "/usr/share/backgrounds/gnome",
        "/usr/share/backgrounds/mate",
        "/usr/share/wallpapers",
        SkimageData,
    ];

    private const string SkimageData = "/usr/lib/python3/dist-packages/skimage/data";

    /// <summary>scikit-image's colour photographs (its other samples are grey, synthetic, or a stereo twin such as motorcycle_right).</summary>
    private static readonly HashSet<string> SkimagePhotos = new(StringComparer.Ordinal)
    {
        "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg", "retina.jpg", "ihc.png",
    };

    /// <summary>Words that name a colour variant of the same picture in file names.</summary>
    private static readonly HashSet<string> VariantWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "d", "l", "dark", "light", "cold", "warm", "radioactive", "no", "logo",
    };

    /// <summary>
    /// Lists the distinct photos under <paramref name="folders"/> (missing folders are skipped with a log line), sorted by key.
    /// Nearly uniform images (a transparent stripe pattern decodes to a blank) are left out: every method would confuse them.
    /// So are files that do not decode. <paramref name="threads"/> photos are decoded at a time.
    /// </summary>
    public static IReadOnlyList<Photo> Find(IReadOnlyList<string> folders, int threads, ILogger log, CancellationToken cancellationToken = default)
    {
        var chosen = new SortedDictionary<string, Photo>(StringComparer.Ordinal);
        foreach (string folder in folders)
        {
            if (!Directory.Exists(folder))
            {
                log.LogWarning("Photo folder {Folder} does not exist; skipped", folder);
                continue;
            }
            string root = Path.GetFullPath(folder).TrimEnd('/');
            string prefix = Path.GetFileName(root);
            foreach (string path in ImageFolderReader.ListFiles(root, new ImageFolderOptions()))
            {
                cancellationToken.ThrowIfCancellationRequested();
                string relative = Path.GetRelativePath(root, path).Replace('\\', '/');
                if (PictureKey(root, prefix, relative) is not { } key) continue;
                var candidate = new Photo(key, path, new FileInfo(path).Length);
                // Among the files of one picture keep the largest (Plasma: the landscape master; MATE: the biggest size).
                if (!chosen.TryGetValue(key, out Photo? kept) || Prefer(candidate, kept)) chosen[key] = candidate;
            }
        }

        // Decoding every photo once is most of the catalogue's cost: spread it over the threads, keep the key order.
        Photo[] candidates = [.. chosen.Values];
        var verdicts = new string?[candidates.Length];
        Parallel.For(0, candidates.Length, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, i =>
        {
            try
            {
                verdicts[i] = IsNearlyUniform(candidates[i].Path) ? "nearly uniform" : null;
            }
            catch (InvalidDataException e)
            {
                verdicts[i] = e.Message;
            }
        });
        var photos = new List<Photo>(candidates.Length);
        for (int i = 0; i < candidates.Length; i++)
        {
            if (verdicts[i] is { } reason) log.LogInformation("Left out {Key}: {Reason}", candidates[i].Key, reason);
            else photos.Add(candidates[i]);
        }
        return photos;
    }

    /// <summary>The picture a file shows, or null when the file is to be ignored.</summary>
    internal static string? PictureKey(string root, string prefix, string relative)
    {
        string[] parts = relative.Split('/');
        if (string.Equals(root, SkimageData, StringComparison.Ordinal))
            return parts.Length == 1 && SkimagePhotos.Contains(parts[0]) ? $"skimage/{Path.GetFileNameWithoutExtension(parts[0])}" : null;

        // KDE Plasma's layout: <Name>/contents/images/<W>x<H>.<ext>; images_dark/ holds the dark variant and screenshot.png a
        // thumbnail, both twins of the picture.
        int contents = Array.IndexOf(parts, "contents");
        if (contents > 0)
            return parts.Length == contents + 3 && parts[contents + 1] == "images" ? $"{prefix}/{string.Join('/', parts[..contents])}" : null;

        // Elsewhere: the stem without a size suffix ("_3840x2160") and without colour-variant words ("-l", "-Dark", "-Cold-no-logo").
        string directory = string.Join('/', parts[..^1]);
        string stem = SizeSuffix().Replace(Path.GetFileNameWithoutExtension(parts[^1]), "");
        string[] words = stem.Split('-');
        int keep = words.Length;
        while (keep > 1 && VariantWords.Contains(words[keep - 1])) keep--;
        string name = string.Join('-', words[..keep]);
        return directory.Length == 0 ? $"{prefix}/{name}" : $"{prefix}/{directory}/{name}";
    }

    private static bool Prefer(Photo candidate, Photo kept) =>
        candidate.Length > kept.Length || (candidate.Length == kept.Length && string.CompareOrdinal(candidate.Path, kept.Path) < 0);

    private static bool IsNearlyUniform(string path)
    {
        PixelImage grey = ImageDecoder.Decode(path, new ImageDecodeOptions { Format = PixelFormat.Gray8, DraftSize = new ImageSize(64, 64) },
            image => image.Resize(64, 64, ResizeFilter.Box));
        double sum = 0, sumSquares = 0;
        foreach (byte value in grey.Pixels)
        {
            sum += value;
            sumSquares += value * (double)value;
        }
        int n = grey.Pixels.Length;
        double variance = sumSquares / n - sum / n * (sum / n);
        return variance < 6 * 6;
    }

    [GeneratedRegex(@"_\d+x\d+$")]
    private static partial Regex SizeSuffix();
}
