using DeepRetrieval.Evaluation.Protocols;

namespace DeepRetrieval.Datasets;

/// <summary>
/// INRIA Holidays (Jégou, Douze and Schmid, ECCV 2008): 1,491 photos in 500 groups, named <c>NNNNNN.jpg</c>; the
/// group is the number divided by 100 and the image numbered NNNN00 is its query. The archives <c>jpg1.tar.gz</c> and
/// <c>jpg2.tar.gz</c> are distributed over FTP only (<see cref="ArchiveAddresses"/>), which this loader cannot fetch:
/// download them by other means into the dataset folder and <see cref="Load"/> unpacks them.
/// </summary>
public static class Holidays
{
    /// <summary>Where INRIA distributes the two image archives (FTP).</summary>
    public static IReadOnlyList<string> ArchiveAddresses { get; } = Array.AsReadOnly(
        ["ftp://ftp.inrialpes.fr/pub/lear/douze/data/jpg1.tar.gz", "ftp://ftp.inrialpes.fr/pub/lear/douze/data/jpg2.tar.gz"]);

    /// <summary>Loads the images (label = group) and the query positions with their judgments.</summary>
    /// <param name="directory">A folder holding the images (possibly under <c>jpg/</c>) or the two archives.</param>
    /// <exception cref="DirectoryNotFoundException">Neither the images nor the archives are there.</exception>
    public static (ImageCollection Images, int[] QueryPositions, QueryJudgments[] Judgments) Load(string directory)
    {
        string how = $"Download {string.Join(" and ", ArchiveAddresses)} into it (FTP).";
        DatasetFolders.Require(directory, "Holidays", how);
        string folder = Directory.Exists(Path.Combine(directory, "jpg")) ? Path.Combine(directory, "jpg") : directory;
        if (DatasetFolders.Images(folder).Length == 0)
        {
            string[] archives = ["jpg1.tar.gz", "jpg2.tar.gz"];
            if (!archives.All(a => File.Exists(Path.Combine(directory, a))))
                throw new DirectoryNotFoundException($"Holidays: '{directory}' holds neither the images nor jpg1.tar.gz and jpg2.tar.gz. {how}");
            foreach (string archive in archives) ArchiveExtractor.Extract(Path.Combine(directory, archive), directory);
            folder = Directory.Exists(Path.Combine(directory, "jpg")) ? Path.Combine(directory, "jpg") : directory;
        }

        string[] files = DatasetFolders.Images(folder);
        string[] names = files.Select(Path.GetFileName).ToArray()!;
        (int[] queries, QueryJudgments[] judgments) = HolidaysProtocol.Judgments(names);
        var images = files.Select((f, i) => new DatasetImage(names[i], int.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture) / 100, f)).ToArray();
        return (new ImageCollection("holidays", images, []), queries, judgments);
    }
}
