using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Torch.Data;
using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using DeepRetrieval;
using DeepRetrieval.Data;
using DeepRetrieval.Datasets;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Indexes;
using DeepRetrieval.Samples.FashionMnist;
using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Extraction;
using DeepRetrieval.Torch.Losses;
using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Samplers;
using DeepRetrieval.Torch.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss ";
}));
ILogger log = logging.CreateLogger("fashion-mnist");
ParseResult parsed = SampleOptions.CreateCommand((options, cancellationToken) =>
{
    try
    {
        return Task.FromResult(Run(options, log, cancellationToken));
    }
    catch (OperationCanceledException)
    {
        log.LogWarning("Cancelled.");
        return Task.FromResult(130);
    }
    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
    {
        log.LogError("{Message}", e.Message);
        return Task.FromResult(1);
    }
}).Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}
return await parsed.InvokeAsync();

static int Run(SampleOptions options, ILogger log, CancellationToken cancellationToken)
{
    var started = DateTime.UtcNow;
    torch.set_num_threads(options.Threads);

    // 1. Data: the full set when the machine has it, else the subset embedded in this sample.
    if (options.DownloadDirectory is { } downloadTo)
    {
        Console.WriteLine($"Downloading Fashion-MNIST into {downloadTo} ...");
        DeepRetrieval.Datasets.FashionMnist.DownloadAsync(downloadTo, new Progress<FashionMnistDownloadProgress>(p =>
            Console.Write($"\r  {p.FileName}: {p.BytesReceived / 1024} KiB   ")), cancellationToken).GetAwaiter().GetResult();
        Console.WriteLine();
    }
    string? directory = options.DataDirectory ?? options.DownloadDirectory;
    if (directory is null && !options.UseEmbeddedSubset) DeepRetrieval.Datasets.FashionMnist.TryFindDefault(out directory);
    DeepRetrieval.Datasets.FashionMnist data = directory is null
        ? DeepRetrieval.Datasets.FashionMnist.LoadFromResources(Assembly.GetExecutingAssembly())
        : DeepRetrieval.Datasets.FashionMnist.Load(directory);
    string source = directory ?? "embedded subset";
    Console.WriteLine($"Fashion-MNIST from {source}: {data.TrainImages.Count:N0} training images, {data.TestImages.Count:N0} test images (28×28 grey).");

    using var train = TensorImageSet.FromIdx(data.TrainImages, Labels(data.TrainLabels));
    using var test = TensorImageSet.FromIdx(data.TestImages, Labels(data.TestLabels));

    // 2. Model: small CNN → GeM → linear + BNNeck → L2-normalised embedding; the model normalises pixels itself.
    var config = RetrievalModelConfig.For("small_cnn", options.EmbeddingDimension) with { Pooling = "gem", Head = options.Head, Metric = Metric.Cosine };
    var model = options.LoadModelPath is { } loadPath ? RetrievalModel.Load(loadPath) : new RetrievalModel(config, seed: options.Seed);
    config = model.Config;
    var arcFace = new ArcFaceLoss(DeepRetrieval.Datasets.FashionMnist.ClassNames.Count, options.EmbeddingDimension, margin: options.Margin, scale: options.Scale);
    nn.Module<Tensor, Tensor, Tensor> loss = options.TripletWeight > 0
        ? new WeightedLossSum((arcFace, 1.0), (new TripletMarginLoss(), options.TripletWeight))
        : arcFace;

    // 3. Training: ArcFace on M-per-class batches, Adam under a one-cycle schedule, random horizontal flips.
    IndexBatchSampler? sampler = options.RandomBatches
        ? null
        : new MPerClassSampler(train.Labels!, options.ImagesPerClass, options.BatchSize, lengthBeforeNewIter: (int)train.Count, seed: options.Seed);
    long batchesPerEpoch = sampler?.BatchCount ?? train.Count / options.BatchSize;
    var flip = new RandomHorizontalFlip();
    var steps = new List<TrainingProgress>();
    var trainerOptions = new TrainerOptions
    {
        Epochs = options.Epochs,
        BatchSize = options.BatchSize,
        Sampler = sampler,
        Seed = options.Seed,
        Optimizer = OptimizerKind.Adam,
        LearningRate = options.MaxLearningRate,
        LossLearningRate = options.ClassWeightLearningRate,
        Schedule = new OneCycleSchedule(options.Epochs * batchesPerEpoch),
        BatchTransform = flip,
        ValidationBatchSize = 1000,
        RestoreBestWeights = false,
        Logger = log,
        Progress = new SynchronousProgress<TrainingProgress>(steps.Add),
    };
    Console.WriteLine($"Training {config.BackboneName} + {config.Pooling} + {config.Head} ({options.EmbeddingDimension}-d) with ArcFace (m = {options.Margin} rad, s = {options.Scale})" +
        $"{(options.TripletWeight > 0 ? $" + {options.TripletWeight} × triplet" : "")}, {(sampler is null ? "shuffled batches" : $"{options.ImagesPerClass} images per class")} of {options.BatchSize}, " +
        $"{options.Epochs} epoch(s), {options.Threads} thread(s); the test set scores each epoch (leave-one-out).");
    TrainingHistory? history = null;
    if (options.LoadModelPath is null)
    {
        using var trainer = new EmbeddingTrainer(model, loss, trainerOptions);
        history = trainer.Fit(train, validation: test, cancellationToken);
    }
    double trainImagesPerSecond = history?.Epochs.Average(e => e.ImagesPerSecond) ?? double.NaN;

    // 4. Index the test embeddings with HNSW and let every test image query the others.
    var extractor = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = 1000 });
    var clock = Stopwatch.StartNew();
    ExtractedFeatures features = extractor.Extract(test, cancellationToken: cancellationToken);
    double extractSeconds = clock.Elapsed.TotalSeconds;
    var index = new HnswIndex(features.Dimension, Metric.L2, m: options.HnswM, efConstruction: options.HnswEf, seed: options.Seed + 1);
    clock.Restart();
    index.Add(features.Vectors, features.Ids);
    double buildSeconds = clock.Elapsed.TotalSeconds;

    byte[] labels = data.TestLabels;
    int[] relevantCounts = RetrievalEvaluator.CountRelevant<byte>(labels, labels, queriesAreReferences: true);
    int k = relevantCounts.Max() + 1; // R neighbours plus the query itself
    var rawIds = new long[(long)features.Count * k];
    var distances = new float[rawIds.Length];
    clock.Restart();
    index.Search(features.Vectors, k, rawIds, distances, new HnswSearchOptions { Ef = Math.Max(options.HnswEf, k) });
    double searchQps = features.Count / clock.Elapsed.TotalSeconds;
    long[] neighborIds = RetrievalEvaluator.ExcludeSelfMatches(rawIds, k, features.Ids);
    int[] recallKs = [1, 2, 4, 8, 16, 32];
    LabelRetrievalReport report = RetrievalEvaluator.Evaluate<byte>(labels, neighborIds, k - 1, labels, relevantCounts, recallKs);

    Console.WriteLine();
    Console.WriteLine($"Test set querying itself ({features.Count:N0} queries, HNSW{options.HnswM}, ef {Math.Max(options.HnswEf, k)}, k = R = {k - 1:N0}):");
    Console.WriteLine($"  Precision@1   {report.PrecisionAt1:F4}");
    Console.WriteLine($"  MAP@R         {report.MeanAveragePrecisionAtR:F4}");
    Console.WriteLine($"  R-Precision   {report.RPrecision:F4}");
    foreach (int cut in recallKs) Console.WriteLine($"  Recall@{cut,-6} {report.RecallAtK[cut]:F4}");
    Console.WriteLine(history is null ? $"  training      skipped (model loaded from {options.LoadModelPath})" : $"  training      {trainImagesPerSecond:F0} images/s (mean over epochs)");
    Console.WriteLine($"  extraction    {features.ImagesPerSecond:F0} images/s; HNSW build {buildSeconds:F2} s; search {searchQps:F0} QPS (batched)");

    // 5. Outputs for scripts and people.
    Directory.CreateDirectory(options.OutputDirectory);
    var metrics = new Dictionary<string, object>
    {
        ["dataset"] = source,
        ["model"] = $"{config.BackboneName}+{config.Pooling}+{config.Head}-{config.EmbeddingDimension}",
        ["loss"] = options.TripletWeight > 0 ? $"arcface+{options.TripletWeight}*triplet" : "arcface",
        ["epochs"] = options.Epochs,
        ["batch_size"] = options.BatchSize,
        ["train_images"] = train.Count,
        ["index"] = index.Kind,
        ["queries"] = features.Count,
        ["precision_at_1"] = report.PrecisionAt1,
        ["map_at_r"] = report.MeanAveragePrecisionAtR,
        ["r_precision"] = report.RPrecision,
        ["recall_at_k"] = recallKs.ToDictionary(c => c.ToString(), c => report.RecallAtK[c]),
        ["extraction_images_per_second"] = features.ImagesPerSecond,
        ["search_qps"] = searchQps,
        ["history"] = history?.Epochs ?? [],
    };
    // Only when this run trained: JSON has no NaN, and a loaded model has no training speed.
    if (history is not null) metrics["train_images_per_second"] = trainImagesPerSecond;
    if (options.Rerank) metrics["reranking"] = SampleReranking.Run(features, labels, rawIds, distances, k, relevantCounts, recallKs);
    string metricsPath = Path.Combine(options.OutputDirectory, "metrics.json");
    File.WriteAllText(metricsPath, JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    history?.SaveCsv(Path.Combine(options.OutputDirectory, "history.csv"));
    string curvePath = Path.Combine(options.OutputDirectory, "training-curve.png");
    if (history is not null) TrainingCurve.Write(curvePath, $"Fashion-MNIST: {config.BackboneName} + {config.Pooling} + {config.Head}, {metrics["loss"]}", steps, history);
    string gridPath = Path.Combine(options.OutputDirectory, "result-grid.png");
    SampleResultGrid.Save(gridPath, data.TestImages, labels, neighborIds, k - 1, rows: Math.Min(10, features.Count), shown: 8);
    if (options.ExportEmbeddingsDirectory is { } exportDirectory)
    {
        Directory.CreateDirectory(exportDirectory);
        features.SaveNpy(Path.Combine(exportDirectory, "test.npy"));
        extractor.ExtractToNpy(train, Path.Combine(exportDirectory, "train.npy"), cancellationToken: cancellationToken);
        Console.WriteLine($"Wrote the embeddings of {train.Count:N0} training and {features.Count:N0} test images to {exportDirectory} (train.npy, test.npy).");
    }
    if (options.SaveModelPath is { } modelPath)
    {
        model.Save(modelPath);
        Console.WriteLine($"Saved the model to {modelPath} (restore with RetrievalModel.Load).");
    }
    Console.WriteLine();
    Console.WriteLine($"Wrote {metricsPath}, history.csv, {curvePath} and {gridPath} ({(DateTime.UtcNow - started).TotalSeconds:F0} s in all).");
    return 0;
}

static long[] Labels(byte[] labels) => labels.Select(l => (long)l).ToArray();
