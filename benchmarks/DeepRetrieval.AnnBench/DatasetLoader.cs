using Microsoft.Extensions.Logging;
using System.Globalization;
using DeepRetrieval.Data;
using DeepRetrieval.Datasets;

namespace DeepRetrieval.AnnBench;

/// <summary>Turns a <c>--dataset</c> spec into base vectors, queries and ground truth.</summary>
internal static class DatasetLoader
{
    private const string SyntheticPrefix = "synthetic:";

    public static BenchDataset Load(Options options, ILogger log)
    {
        string spec = options.Dataset;
        if (spec.Equals("fashion-mnist", StringComparison.OrdinalIgnoreCase))
            return LoadFashionMnist(options, log);
        if (spec.StartsWith(SyntheticPrefix, StringComparison.OrdinalIgnoreCase))
            return LoadSynthetic(options, log);
        if (Directory.Exists(spec))
            return LoadDirectory(options);
        throw new UsageException(File.Exists(spec)
            ? $"--dataset \"{spec}\" is a file; give the directory that holds base.fvecs, query.fvecs and groundtruth.ivecs."
            : $"--dataset \"{spec}\" is not fashion-mnist, synthetic:N:D, or an existing directory.");
    }

    // ann-benchmarks' fashion-mnist-784-euclidean: train images as base, test images as queries, raw 0..255 pixels.
    private static BenchDataset LoadFashionMnist(Options options, ILogger log)
    {
        string directory;
        if (options.DataDir is not null)
        {
            directory = options.DataDir;
            if (!FashionMnist.ContainsDataset(directory))
                throw new UsageException($"--data-dir \"{directory}\" does not hold the four Fashion-MNIST IDX files ({string.Join(", ", FashionMnist.FileNames)}, each optionally .gz).");
        }
        else if (!FashionMnist.TryFindDefault(out directory!))
        {
            throw new UsageException($"Fashion-MNIST IDX files not found in ${FashionMnist.DirectoryEnvironmentVariable} or {FashionMnist.DebianDirectory}; point --data-dir at them.");
        }

        FashionMnist data;
        try
        {
            data = FashionMnist.Load(directory, maxTest: options.Queries);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"Fashion-MNIST files in \"{directory}\" are not valid: {e.Message}");
        }
        int dimension = data.TrainImages.PixelsPerImage;
        var baseVectors = new VectorSet<float>(data.TrainImages.Count, dimension, data.TrainImages.ToFloat(scale: 1f));
        var queries = new VectorSet<float>(data.TestImages.Count, dimension, data.TestImages.ToFloat(scale: 1f));
        string name = $"fashion-mnist-{dimension}-{Options.MetricName(options.Metric)}";
        log.LogInformation("{Message}", $"Dataset: {name} from {directory}");
        VectorSet<int> truth = GroundTruth.GetOrCompute(name, options.Metric, baseVectors, queries,
            GroundTruth.DepthFor(options.K), options.CacheDir, log);
        return new BenchDataset(name, options.Metric, baseVectors, queries, truth);
    }

    private static BenchDataset LoadSynthetic(Options options, ILogger log)
    {
        string[] parts = options.Dataset[SyntheticPrefix.Length..].Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) || count < 1
            || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int dimension) || dimension < 1)
            throw new UsageException($"--dataset \"{options.Dataset}\": write synthetic:N:D with positive integers, e.g. synthetic:100000:128.");
        if ((long)count * dimension > Array.MaxLength)
            throw new UsageException($"--dataset \"{options.Dataset}\": {count} × {dimension} values do not fit in one array.");

        (VectorSet<float> baseVectors, VectorSet<float> queries) = SyntheticData.Generate(count, dimension, options.Seed);
        queries = FirstRows(queries, options.Queries);
        string name = $"synthetic-{count}-{dimension}-{Options.MetricName(options.Metric)}-seed{options.Seed}";
        log.LogInformation("{Message}", $"Dataset: {name} ({SyntheticData.ClusterCount} Gaussian clusters)");
        VectorSet<int> truth = GroundTruth.GetOrCompute(name, options.Metric, baseVectors, queries,
            GroundTruth.DepthFor(options.K), options.CacheDir, log);
        return new BenchDataset(name, options.Metric, baseVectors, queries, truth);
    }

    private static BenchDataset LoadDirectory(Options options)
    {
        string directory = options.Dataset;
        string basePath = Path.Combine(directory, "base.fvecs");
        string queryPath = Path.Combine(directory, "query.fvecs");
        string truthPath = Path.Combine(directory, "groundtruth.ivecs");
        string[] missing = [.. new[] { basePath, queryPath, truthPath }.Where(p => !File.Exists(p)).Select(Path.GetFileName).OfType<string>()];
        if (missing.Length > 0)
            throw new UsageException($"--dataset \"{directory}\" lacks {string.Join(", ", missing)} (needs base.fvecs, query.fvecs and groundtruth.ivecs).");

        try
        {
            VectorSet<float> baseVectors = VecsReader.ReadFvecs(basePath);
            VectorSet<float> queries = VecsReader.ReadFvecs(queryPath, options.Queries);
            VectorSet<int> truth = VecsReader.ReadIvecs(truthPath, options.Queries);
            if (baseVectors.Count == 0 || queries.Count == 0)
                throw new UsageException($"--dataset \"{directory}\": base.fvecs and query.fvecs must hold at least one vector.");
            if (truth.Count < queries.Count)
                throw new UsageException($"--dataset \"{directory}\": groundtruth.ivecs has {truth.Count} rows for {queries.Count} queries.");
            if (truth.Dimension < options.K)
                throw new UsageException($"--dataset \"{directory}\": groundtruth.ivecs holds {truth.Dimension} neighbours per query, fewer than --k {options.K}.");
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
            return new BenchDataset(name, options.Metric, baseVectors, queries, truth);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"--dataset \"{directory}\": {e.Message}");
        }
    }

    private static VectorSet<float> FirstRows(VectorSet<float> vectors, int? count)
    {
        if (count is null || count >= vectors.Count) return vectors;
        int rows = count.Value;
        return new VectorSet<float>(rows, vectors.Dimension, vectors.Data.AsSpan(0, rows * vectors.Dimension).ToArray());
    }
}
