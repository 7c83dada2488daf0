namespace DeepRetrieval.Datasets;

/// <summary>
/// UKBench (Nistér and Stewénius, CVPR 2006): 10,200 images <c>ukbench00000.jpg</c> … <c>ukbench10199.jpg</c> of
/// 2,550 objects, four consecutive images each; the label is the object (index / 4). Its original host no longer
/// serves it: place <c>ukbench.zip</c> or the <c>full/</c> folder in the dataset folder.
/// </summary>
public static class UkBench
{
    /// <summary>Loads the images with their object labels, in index order.</summary>
    /// <param name="directory">A folder holding the images (possibly under <c>full/</c>) or <c>ukbench.zip</c>.</param>
    /// <exception cref="DirectoryNotFoundException">Neither the images nor the archive are there.</exception>
    /// <exception cref="InvalidDataException">An image name does not follow <c>ukbenchNNNNN</c>.</exception>
    public static ImageCollection Load(string directory)
    {
        const string how = "Place ukbench.zip (or its full/ folder) there; the original host no longer serves it.";
        DatasetFolders.Require(directory, "UKBench", how);
        string folder = Directory.Exists(Path.Combine(directory, "full")) ? Path.Combine(directory, "full") : directory;
        if (DatasetFolders.Images(folder).Length == 0)
        {
            string archive = Path.Combine(directory, "ukbench.zip");
            if (!File.Exists(archive)) throw new DirectoryNotFoundException($"UKBench: '{directory}' holds neither the images nor ukbench.zip. {how}");
            ArchiveExtractor.Extract(archive, directory);
            folder = Directory.Exists(Path.Combine(directory, "full")) ? Path.Combine(directory, "full") : directory;
        }

        var images = new List<DatasetImage>();
        foreach (string file in DatasetFolders.Images(folder))
        {
            string stem = Path.GetFileNameWithoutExtension(file);
            if (!stem.StartsWith("ukbench", StringComparison.Ordinal) || !int.TryParse(stem.AsSpan(7), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
                throw new InvalidDataException($"UKBench: '{file}' is not named ukbenchNNNNN.");
            if (index != images.Count)
                throw new InvalidDataException($"UKBench: expected image {images.Count} but found '{Path.GetFileName(file)}'; the set must be complete for the groups of four to line up.");
            images.Add(new DatasetImage(Path.GetFileName(file), index / Evaluation.Protocols.UkBenchProtocol.GroupSize, file));
        }

        return new ImageCollection("ukbench", images, []);
    }
}
