using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Hashing;
using DeepRetrieval.Imaging.IO;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Imaging.Visualization;
using DeepRetrieval.Samples.CopyDetection.Copies;
using DeepRetrieval.Samples.CopyDetection.Evaluation;
using DeepRetrieval.Samples.CopyDetection.Methods;
using DeepRetrieval.Samples.CopyDetection.Photos;
using DeepRetrieval.Samples.CopyDetection.Reports;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Samples.CopyDetection;

/// <summary>
/// The whole run: find the photos, split them into originals and distractors, make (or re-use) the copies, describe every
/// reference and every copy with each method, score, evaluate, and write the tables and figures.
/// </summary>
internal static partial class CopyDetectionBenchmark
{
    private const int ThumbnailSide = 240;
    private const int PredictionsPerCopy = 10;

    /// <summary>Edits shown in the result grid when they ran (they separate the methods best).</summary>
    private static readonly string[] GridTransforms = ["flip", "rotate-90", "crop-offset", "overlay", "text", "hue", "rotate-small", "blur"];

    public static async Task<BenchmarkReport> RunAsync(BenchmarkSettings settings, ILogger log, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var clock = Stopwatch.StartNew();
        // The methods first: a missing model is reported before minutes go into making copies.
        List<ICopyDetector> detectors = CreateDetectors(settings, log);
        try
        {
            IReadOnlyList<Photo> photos = PhotoCatalog.Find(settings.PhotoFolders, settings.Threads, log, cancellationToken);
            log.LogInformation("Found {Count} distinct photos in {Folders}", photos.Count, string.Join(", ", settings.PhotoFolders));
            CopyDataset data = CopyDataset.Create(photos, settings, log, cancellationToken);
            log.LogInformation("{Originals} originals, {Distractors} distractors, {Copies} copies ({Transforms})",
                data.Originals.Count, data.Distractors.Count, data.Copies.Count, string.Join(", ", settings.Transforms));

            var seconds = new double[detectors.Count];
            var referenceSeconds = new double[detectors.Count];
            var querySeconds = new double[detectors.Count];
            var trainingSeconds = new double[detectors.Count];
            var watch = new Stopwatch();
            var phase = Stopwatch.StartNew();

            // References: decoded on worker threads, at most WorkingSize on the longer side, then described by every method.
            var referenceThumbnails = new PixelImage[data.References.Count];
            var referenceReader = new ImageFolderReader(new ImageFolderOptions
            {
                DecodeThreads = settings.Threads,
                Decode = new ImageDecodeOptions { DraftSize = new ImageSize(CopyDataset.WorkingSize, CopyDataset.WorkingSize) },
                Transform = image => image.Width > CopyDataset.WorkingSize || image.Height > CopyDataset.WorkingSize
                    ? image.ResizeToFit(CopyDataset.WorkingSize, CopyDataset.WorkingSize, ResizeFilter.Bilinear)
                    : image.Clone(),
            }, log);
            await foreach (LoadedImage reference in referenceReader.ReadFilesAsync([.. data.References.Select(p => p.Path)], cancellationToken: cancellationToken))
            {
                for (int m = 0; m < detectors.Count; m++)
                {
                    watch.Restart();
                    detectors[m].AddReference(reference.Image);
                    seconds[m] += watch.Elapsed.TotalSeconds;
                    referenceSeconds[m] += watch.Elapsed.TotalSeconds;
                }
                referenceThumbnails[reference.Index] = Thumbnail(reference.Image);
            }
            ThrowOnSkipped(referenceReader);
            TrainClassicalMethods(detectors, data, referenceSeconds, seconds, trainingSeconds, log);
            log.LogInformation("Indexed {Count} references in {Seconds:F1} s", data.References.Count, phase.Elapsed.TotalSeconds);

            // Queries: every copy scored by every method in turn (the re-ranker reads the embedding's scores).
            var scores = detectors.Select(_ => new float[data.Copies.Count][]).ToArray();
            int[] gridRows = ChooseGridQueries(data, settings);
            var queryThumbnails = new Dictionary<int, PixelImage>();
            var queryReader = new ImageFolderReader(new ImageFolderOptions { DecodeThreads = settings.Threads }, log);
            var earlier = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var lastReport = Stopwatch.StartNew();
            await foreach (LoadedImage copy in queryReader.ReadFilesAsync([.. data.Copies.Select(c => c.Path)], cancellationToken: cancellationToken))
            {
                earlier.Clear();
                for (int m = 0; m < detectors.Count; m++)
                {
                    watch.Restart();
                    float[] row = detectors[m].Score(copy.Image, earlier);
                    seconds[m] += watch.Elapsed.TotalSeconds;
                    querySeconds[m] += watch.Elapsed.TotalSeconds;
                    scores[m][copy.Index] = row;
                    earlier[detectors[m].Name] = row;
                }
                if (gridRows.Contains(copy.Index)) queryThumbnails[copy.Index] = Thumbnail(copy.Image);
                if (lastReport.Elapsed.TotalSeconds >= 10)
                {
                    log.LogInformation("Scored {Done}/{Total} copies", copy.Index + 1, data.Copies.Count);
                    lastReport.Restart();
                }
            }
            ThrowOnSkipped(queryReader);

            int images = data.References.Count + data.Copies.Count;
            var results = detectors.Select((d, m) => CopyDetectionEvaluator.Evaluate(d.Name, scores[m], data.Copies, data.References,
                settings.Transforms, 1000 * seconds[m] / images) with
            {
                MillisecondsPerReference = 1000 * referenceSeconds[m] / data.References.Count,
                MillisecondsPerQuery = 1000 * querySeconds[m] / data.Copies.Count,
                TrainingSeconds = trainingSeconds[m],
            }).ToList();
            var files = new List<string>();
            var report = new BenchmarkReport(data.Originals.Count, data.Distractors.Count, data.Copies.Count, settings.Transforms, results,
                clock.Elapsed.TotalSeconds, files);
            if (settings.OutputDirectory is { } output)
            {
                files.AddRange(WriteOutputs(output, report, data, detectors, scores, referenceThumbnails, queryThumbnails, gridRows));
                log.LogInformation("Wrote {Files}", string.Join(", ", files));
            }
            return report;
        }
        finally
        {
            foreach (ICopyDetector detector in detectors) detector.Dispose();
        }
    }

    private static List<ICopyDetector> CreateDetectors(BenchmarkSettings settings, ILogger log)
    {
        var detectors = new List<ICopyDetector>();
        try
        {
            foreach (string name in BenchmarkSettings.MethodNames.Where(settings.Methods.Contains))
            {
                switch (name)
                {
                    case "phash":
                        detectors.Add(new HashDetector("pHash", PerceptualHashers.Create("phash")));
                        break;
                    case "dhash":
                        detectors.Add(new HashDetector("dHash", PerceptualHashers.Create("dhash")));
                        break;
                    case "embedding":
                        if (!File.Exists(OnnxRuntime.MlNetResNet18.ModelPath(settings.ModelsDirectory)))
                            throw new UsageException($"ML.NET's ResNet-18 is not in '{settings.ModelsDirectory}' (the build copies it from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18); give --models.");
                        var embedding = new EmbeddingDetector(settings.ModelsDirectory, settings.Threads);
                        log.LogInformation("Embedding: {Fingerprint}", embedding.Fingerprint);
                        detectors.Add(embedding);
                        break;
                    case "sift":
                        detectors.Add(new SpatialVerificationDetector(EmbeddingDetector.MethodName, settings.ShortList, settings.MinimumInliers, settings.Threads));
                        break;
                    case "sift-bovw":
                        detectors.Add(new SiftBovwDetector(settings.ShortList, settings.MinimumInliers, settings.Seed, settings.Threads));
                        break;
                    case "vlad":
                        detectors.Add(new VladDetector(settings.Seed, settings.Threads));
                        break;
                    case "fisher":
                        detectors.Add(new FisherDetector(settings.Seed, settings.Threads));
                        break;
                    case "asmk":
                        detectors.Add(new AsmkDetector(settings.Seed, settings.Threads));
                        break;
                }
            }
            return detectors;
        }
        catch
        {
            foreach (ICopyDetector detector in detectors) detector.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trains the classical methods on the distractors' descriptors only (never on an original: the copies are made from
    /// those), then lets them index every reference; indexing counts as reference time, training is reported apart.
    /// </summary>
    private static void TrainClassicalMethods(List<ICopyDetector> detectors, CopyDataset data, double[] referenceSeconds, double[] seconds,
        double[] trainingSeconds, ILogger log)
    {
        var distractorKeys = data.Distractors.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        int[] trainingIds = [.. Enumerable.Range(0, data.References.Count).Where(i => distractorKeys.Contains(data.References[i].Key))];
        var watch = new Stopwatch();
        for (int m = 0; m < detectors.Count; m++)
        {
            if (detectors[m] is not ITrainedCopyDetector trained) continue;
            if (trainingIds.Length == 0) throw new UsageException($"{trained.Name} learns from the distractors; the run has none (--distractors).");
            watch.Restart();
            trained.Train(trainingIds);
            trainingSeconds[m] = watch.Elapsed.TotalSeconds;
            watch.Restart();
            trained.IndexReferences();
            seconds[m] += watch.Elapsed.TotalSeconds;
            referenceSeconds[m] += watch.Elapsed.TotalSeconds;
            log.LogInformation("{Method}: trained on {Count} distractors in {Seconds:F1} s", trained.Name, trainingIds.Length, trainingSeconds[m]);
        }
    }

    /// <summary>One copy for each of the first grid edits that ran, each of a different original (seeded).</summary>
    private static int[] ChooseGridQueries(CopyDataset data, BenchmarkSettings settings)
    {
        string[] shown = [.. GridTransforms.Where(settings.Transforms.Contains).Concat(settings.Transforms.Except(GridTransforms)).Take(settings.GridQueries)];
        var random = new Random(settings.Seed);
        int[] originals = [.. Enumerable.Range(0, data.Originals.Count)];
        random.Shuffle(originals);
        int perOriginal = settings.Transforms.Count;
        return [.. shown.Select((t, i) => originals[i % originals.Length] * perOriginal + settings.Transforms.ToList().IndexOf(t))];
    }

    private static PixelImage Thumbnail(PixelImage image) =>
        image.Width > ThumbnailSide || image.Height > ThumbnailSide ? image.ResizeToFit(ThumbnailSide, ThumbnailSide, ResizeFilter.Bilinear) : image.Clone();

    private static void ThrowOnSkipped(ImageFolderReader reader)
    {
        if (reader.Skipped.Count > 0)
        {
            SkippedImage first = reader.Skipped[0];
            throw new InvalidDataException($"{reader.Skipped.Count} images could not be decoded, the first {first.Path}: {first.Reason}");
        }
    }

    private static IEnumerable<string> WriteOutputs(string folder, BenchmarkReport report, CopyDataset data, List<ICopyDetector> detectors,
        float[][][] scores, PixelImage[] referenceThumbnails, Dictionary<int, PixelImage> queryThumbnails, int[] gridRows)
    {
        Directory.CreateDirectory(folder);
        string tables = Path.Combine(folder, "results.md");
        File.WriteAllText(tables, ResultTables.Format(report));
        yield return tables;

        string json = Path.Combine(folder, "results.json");
        File.WriteAllText(json, JsonSerializer.Serialize(new
        {
            report.Originals,
            report.Distractors,
            report.Copies,
            report.Transforms,
            report.ElapsedSeconds,
            Methods = report.Methods.Select(m => new
            {
                m.Method, m.RecallAt1, m.MeanAveragePrecision, m.MicroAveragePrecision, m.RecallAtPrecision90, m.ThresholdAtPrecision90,
                RecallAt1ByTransform = m.RecallAt1ByTransform.ToDictionary(p => p.Key, p => p.Value), m.MillisecondsPerImage,
                m.MillisecondsPerReference, m.MillisecondsPerQuery, m.TrainingSeconds,
            }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        yield return json;

        // The ground truth in the ISC 2021 CSV form (query_id,reference_id) that isc2021's scripts and CopyDetectionMetrics.ReadGroundTruth read.
        string truth = Path.Combine(folder, "ground_truth.csv");
        File.WriteAllLines(truth, ["query_id,reference_id", .. data.Copies.Select(c => $"{c.Id},{c.Original.Key}")]);
        yield return truth;

        // Each method's ten best references per copy, as ISC 2021 submissions list them (query_id,reference_id,score).
        for (int m = 0; m < detectors.Count; m++)
        {
            string predictions = Path.Combine(folder, $"predictions-{Slug(detectors[m].Name)}.csv");
            File.WriteAllLines(predictions, ["query_id,reference_id,score", .. data.Copies.SelectMany((copy, q) => TopReferences(scores[m][q], PredictionsPerCopy)
                .Select(r => string.Create(CultureInfo.InvariantCulture, $"{copy.Id},{data.References[r].Key},{scores[m][q][r]:R}")))]);
            yield return predictions;
        }

        string plot = Path.Combine(folder, "precision-recall.png");
        PrecisionRecallPlot.Save(plot, $"Copy detection on Debian photos: {report.Copies} copies, {report.Originals + report.Distractors} references", report.Methods);
        yield return plot;

        if (gridRows.Length > 0)
        {
            string grid = Path.Combine(folder, "result-grid.png");
            ResultGrid.Save(grid, GridRows(data, detectors, scores, referenceThumbnails, queryThumbnails, gridRows),
                new ResultGridOptions { ThumbnailSize = 120, MaxResults = 5, Title = "Copies (left) and the five best references; green = the original" });
            yield return grid;
        }
    }

    /// <summary>For each chosen copy, a row for the first method (pHash by default) and a row for the last (best-equipped) one.</summary>
    private static List<ResultGridRow> GridRows(CopyDataset data, List<ICopyDetector> detectors, float[][][] scores, PixelImage[] referenceThumbnails,
        Dictionary<int, PixelImage> queryThumbnails, int[] gridRows)
    {
        int[] shownMethods = [.. new[] { 0, detectors.Count - 1 }.Distinct()];
        var rows = new List<ResultGridRow>();
        foreach (int q in gridRows)
        {
            CopyItem copy = data.Copies[q];
            foreach (int m in shownMethods)
            {
                float[] row = scores[m][q];
                ResultGridCell[] results = [.. TopReferences(row, 5)
                    .Select(r => new ResultGridCell(referenceThumbnails[r], detectors[m].Caption(row[r]), data.References[r].Key == copy.Original.Key))];
                rows.Add(new ResultGridRow(new ResultGridCell(queryThumbnails[q], copy.Transform.Name), results, detectors[m].Name));
            }
        }
        return rows;
    }

    /// <summary>The ids of the best-scored references, best first (ties by id).</summary>
    private static IEnumerable<int> TopReferences(float[] row, int count) =>
        Enumerable.Range(0, row.Length).OrderByDescending(r => row[r]).ThenBy(r => r).Take(count);

    private static string Slug(string name) => NonAlphanumeric().Replace(name.ToLowerInvariant(), "-").Trim('-');

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlphanumeric();
}
