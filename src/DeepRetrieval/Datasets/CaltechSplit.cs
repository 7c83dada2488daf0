namespace DeepRetrieval.Datasets;

/// <summary>
/// The per-class split of the Caltech benchmarks (Fei-Fei, Fergus and Perona; Griffin, Holub and Perona): in each
/// class folder the images are shuffled with a seeded generator (seed + class index, Fisher–Yates over the sorted
/// file names), the first <c>trainPerClass</c> go to training and the next <c>testPerClass</c> (or all the rest) to
/// testing, so the split is the same on every machine for a given seed.
/// </summary>
internal static class CaltechSplit
{
    public static (ImageCollection Train, ImageCollection Test) Load(string categories, string dataset, Func<string, bool> keepClass,
        Func<string, string> className, int trainPerClass, int? testPerClass, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainPerClass);
        if (testPerClass is <= 0) throw new ArgumentOutOfRangeException(nameof(testPerClass), testPerClass, "testPerClass must be positive or null (all the rest).");
        var names = new List<string>();
        var train = new List<DatasetImage>();
        var test = new List<DatasetImage>();
        foreach (string folder in DatasetFolders.Subdirectories(categories))
        {
            string folderName = Path.GetFileName(folder);
            if (!keepClass(folderName)) continue;
            int label = names.Count;
            names.Add(className(folderName));
            string[] files = DatasetFolders.Images(folder);
            if (files.Length <= trainPerClass)
                throw new InvalidDataException($"{dataset}: class '{folderName}' has {files.Length} images, not more than the {trainPerClass} to train on.");
            var random = new Random(seed + label);
            for (int i = files.Length - 1; i > 0; i--)
            {
                int j = random.Next(i + 1);
                (files[i], files[j]) = (files[j], files[i]);
            }

            int testCount = Math.Min(files.Length - trainPerClass, testPerClass ?? int.MaxValue);
            for (int i = 0; i < trainPerClass + testCount; i++)
            {
                var image = new DatasetImage($"{folderName}/{Path.GetFileName(files[i])}", label, files[i]);
                (i < trainPerClass ? train : test).Add(image);
            }
        }

        if (names.Count == 0) throw new InvalidDataException($"{dataset}: '{categories}' holds no class folders.");
        return (new ImageCollection($"{dataset}/train", train, names), new ImageCollection($"{dataset}/test", test, names));
    }

    /// <summary>Finds (or unpacks) the categories folder under <paramref name="root"/>.</summary>
    public static string Locate(string root, string folder, string dataset, params string[] archives)
    {
        DatasetFolders.Require(root, dataset, $"Download it with {dataset}.DownloadAsync, or place its archive there.");
        string categories = Path.Combine(root, folder);
        if (Directory.Exists(categories)) return categories;
        foreach (string archive in archives)
        {
            string path = Path.Combine(root, archive);
            if (!File.Exists(path)) continue;
            ArchiveExtractor.Extract(path, root);
            if (Directory.Exists(categories)) return categories;
            // A zip of the archive (as data.caltech.edu serves Caltech-101) holds the tarball one level down.
            string? inner = Directory.GetFiles(root, "*.tar*", SearchOption.AllDirectories).FirstOrDefault(f => f != path && Path.GetFileName(f).StartsWith(folder, StringComparison.Ordinal));
            if (inner is not null)
            {
                ArchiveExtractor.Extract(inner, root);
                if (Directory.Exists(categories)) return categories;
            }
        }

        throw new DirectoryNotFoundException($"{dataset}: neither '{categories}' nor one of {string.Join(", ", archives)} is in '{root}'. Download it with {dataset}.DownloadAsync.");
    }
}
