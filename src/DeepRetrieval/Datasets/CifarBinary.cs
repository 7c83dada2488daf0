using DeepRetrieval.Data;

namespace DeepRetrieval.Datasets;

/// <summary>
/// The CIFAR "binary version" record format: per image <c>labelBytes</c> label bytes (the used one last for CIFAR-100's
/// coarse, fine pair) then 3,072 bytes, the 1,024 red values, then green, then blue, each 32 rows of 32.
/// </summary>
internal static class CifarBinary
{
    public const int Side = 32;
    private const int PixelBytes = Side * Side * 3;

    /// <summary>Reads every record of <paramref name="path"/>, converting the planes to interleaved RGB.</summary>
    public static void Read(string path, int labelBytes, int labelIndex, int classCount, string split, List<DatasetImage> images)
    {
        int record = labelBytes + PixelBytes;
        long length = new FileInfo(path).Length;
        if (length == 0 || length % record != 0)
            throw new InvalidDataException($"'{path}' holds {length} bytes, not a whole number of {record}-byte CIFAR records.");
        using FileStream stream = DataStreams.OpenRead(path);
        var buffer = new byte[record];
        for (long r = 0; r < length / record; r++)
        {
            DataStreams.ReadExact(stream, buffer, path, "CIFAR record");
            int label = buffer[labelIndex];
            if (label >= classCount)
                throw new InvalidDataException($"'{path}', record {r}: label {label} is outside 0..{classCount - 1}.");
            var pixels = new byte[PixelBytes];
            for (int p = 0; p < Side * Side; p++)
            {
                pixels[3 * p] = buffer[labelBytes + p];
                pixels[3 * p + 1] = buffer[labelBytes + Side * Side + p];
                pixels[3 * p + 2] = buffer[labelBytes + 2 * Side * Side + p];
            }

            images.Add(new DatasetImage($"{split}/{images.Count}", label, new RawImage(Side, Side, 3, pixels)));
        }
    }

    /// <summary>Finds the folder holding <paramref name="marker"/>: the root itself, its named subfolder, or (after extracting the archive) that subfolder.</summary>
    public static string Locate(string root, string folder, string marker, DatasetFile archive, string dataset)
    {
        DatasetFolders.Require(root, dataset, $"Download it with {dataset}.DownloadAsync.");
        foreach (string candidate in new[] { root, Path.Combine(root, folder) })
            if (File.Exists(Path.Combine(candidate, marker))) return candidate;
        string archivePath = Path.Combine(root, archive.FileName);
        if (File.Exists(archivePath))
        {
            ArchiveExtractor.Extract(archivePath, root);
            if (File.Exists(Path.Combine(root, folder, marker))) return Path.Combine(root, folder);
        }

        throw new FileNotFoundException($"{dataset}: neither '{Path.Combine(root, folder, marker)}' nor the archive '{archivePath}' is there. Download it with {dataset}.DownloadAsync.", archivePath);
    }

    public static string[] ReadNames(string path) =>
        File.Exists(path) ? File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray() : [];
}
