using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using DeepRetrieval.Data;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Indexes;
using DeepRetrieval.Samples.FashionMnist;

SampleOptions options;
try
{
    if (args.Contains("--help")) { Console.WriteLine(SampleOptions.Usage); return 0; }
    options = SampleOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(SampleOptions.Usage);
    return 2;
}

// 1. Data: the full set when the machine has it, else the subset embedded in this sample.
if (options.DownloadDirectory is { } downloadTo)
{
    Console.WriteLine($"Downloading Fashion-MNIST into {downloadTo} ...");
    await DeepRetrieval.Data.FashionMnist.DownloadAsync(downloadTo, new Progress<FashionMnistDownloadProgress>(p =>
        Console.Write($"\r  {p.FileName}: {p.BytesReceived / 1024} KiB   ")));
    Console.WriteLine();
}
string? directory = options.DataDirectory ?? options.DownloadDirectory;
if (directory is null && !options.UseEmbeddedSubset) DeepRetrieval.Data.FashionMnist.TryFindDefault(out directory);
DeepRetrieval.Data.FashionMnist data = directory is null
    ? DeepRetrieval.Data.FashionMnist.LoadFromResources(Assembly.GetExecutingAssembly())
    : DeepRetrieval.Data.FashionMnist.Load(directory);
string source = directory ?? "embedded subset";
int queryCount = Math.Min(options.MaxQueries, data.TestImages.Count);
Console.WriteLine($"Fashion-MNIST from {source}: {data.TrainImages.Count:N0} training images (the index), {queryCount:N0} test images (the queries), 28×28 → 784-d pixels in [0, 1].");

// 2. Index: exact search over raw pixels.
int dimension = data.TrainImages.PixelsPerImage;
float[] train = data.TrainImages.ToFloat();
float[] queries = data.TestImages.Slice(0, queryCount).ToFloat();
byte[] queryLabels = data.TestLabels[..queryCount];
var index = new FlatIndex(dimension);
var clock = Stopwatch.StartNew();
index.Add(train); // ids 0..n−1 are positions in the training set
Console.WriteLine($"FlatIndex: {index.Count:N0} vectors, {MemoryFootprint.Of(index)}, built in {clock.Elapsed.TotalSeconds:F2} s.");

// 3. Search: every training image of a class is relevant, so MAP@R needs R = (class size) neighbours.
int[] relevantCounts = RetrievalEvaluator.CountRelevant<byte>(queryLabels, data.TrainLabels, queriesAreReferences: false);
int k = relevantCounts.Max();
var searchOptions = new SearchOptions { MaxDegreeOfParallelism = options.Threads };
const int Batch = 250;
var neighborIds = new long[(long)queryCount * k];
var distances = new float[(long)queryCount * k];
clock.Restart();
for (int start = 0; start < queryCount; start += Batch)
{
    int n = Math.Min(Batch, queryCount - start);
    index.Search(queries.AsSpan(start * dimension, n * dimension), k, neighborIds.AsSpan(start * k, n * k), distances.AsSpan(start * k, n * k), searchOptions);
}
double batchQps = queryCount / clock.Elapsed.TotalSeconds;

// One query at a time, as an application answering users would call it (top 10).
int single = Math.Min(queryCount, 200);
var oneIds = new long[10];
var oneDistances = new float[10];
ThroughputResult oneAtATime = Throughput.MeasureLoop(single, q =>
    index.Search(queries.AsSpan(q * dimension, dimension), 10, oneIds, oneDistances, searchOptions), warmupQueries: 5);

// 4. Metrics.
int[] recallKs = [1, 10, 100];
LabelRetrievalReport report = RetrievalEvaluator.Evaluate<byte>(queryLabels, neighborIds, k, data.TrainLabels, relevantCounts, recallKs);
const int MapCutoff = 100;
var relevance = new bool[queryCount * MapCutoff];
var truncatedRelevant = new int[queryCount];
for (int q = 0; q < queryCount; q++)
{
    for (int i = 0; i < MapCutoff; i++) relevance[q * MapCutoff + i] = data.TrainLabels[neighborIds[(long)q * k + i]] == queryLabels[q];
    truncatedRelevant[q] = Math.Min(relevantCounts[q], MapCutoff);
}
double mapAt100 = RetrievalMetrics.MeanAveragePrecision(relevance, MapCutoff, truncatedRelevant);

Console.WriteLine();
Console.WriteLine($"  Precision@1   {report.PrecisionAt1:F4}");
foreach (int cut in recallKs) Console.WriteLine($"  Recall@{cut,-6} {report.RecallAtK[cut]:F4}");
Console.WriteLine($"  mAP@{MapCutoff}      {mapAt100:F4}");
Console.WriteLine($"  MAP@R         {report.MeanAveragePrecisionAtR:F4}   (R = {relevantCounts.Min():N0}..{k:N0} training images of the query's class)");
Console.WriteLine($"  R-Precision   {report.RPrecision:F4}");
Console.WriteLine($"  QPS batched   {batchQps:F0}  (k = {k:N0}, {(options.Threads == 0 ? Environment.ProcessorCount : options.Threads)} threads)");
Console.WriteLine($"  QPS one by one {oneAtATime.QueriesPerSecond:F0}  (k = 10)");

// 5. Outputs for scripts and people.
Directory.CreateDirectory(options.OutputDirectory);
var metrics = new Dictionary<string, object>
{
    ["dataset"] = source,
    ["index"] = index.Kind,
    ["references"] = index.Count,
    ["queries"] = queryCount,
    ["precision_at_1"] = report.PrecisionAt1,
    ["recall_at_k"] = recallKs.ToDictionary(c => c.ToString(), c => report.RecallAtK[c]),
    ["map_at_100"] = mapAt100,
    ["map_at_r"] = report.MeanAveragePrecisionAtR,
    ["r_precision"] = report.RPrecision,
    ["batch_qps"] = batchQps,
    ["single_query_qps"] = oneAtATime.QueriesPerSecond,
    ["memory_bytes"] = index.MemoryUsageBytes,
};
string metricsPath = Path.Combine(options.OutputDirectory, "metrics.json");
File.WriteAllText(metricsPath, JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true }));
string gridPath = Path.Combine(options.OutputDirectory, "result-grid.png");
ResultGrid.Write(gridPath, data.TestImages, queryLabels, data.TrainImages, data.TrainLabels, neighborIds, k, rows: Math.Min(10, queryCount), shown: 8);
Console.WriteLine();
Console.WriteLine($"Wrote {metricsPath} and {gridPath}.");
return 0;
