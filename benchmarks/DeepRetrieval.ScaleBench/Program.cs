using System.CommandLine;
using System.Diagnostics;
using DeepRetrieval.Clustering;
using DeepRetrieval.Data;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.AnnBench;
using DeepRetrieval.Bench;
using DeepRetrieval.ScaleBench;

// Million-scale runs without holding the base in memory:
//   generate: a seeded low-rank Gaussian mixture (MixtureGenerator) as DIR/base.fvecs, query.fvecs and exact
//             100-NN groundtruth.ivecs, written in one streamed pass;
//   kmeans:   time k-means alone (IvfIndex's training: exact assignment, at most 256 points per centroid) on the
//             first rows of DIR/base.fvecs;
//   run:      train on the first rows of DIR/base.fvecs, add the rest in chunks, report the index's bytes and the
//             process's resident memory, then recall@k and QPS (one query per call and batched) per search setting.
// Exit code 2 on bad options, 1 on unreadable files.
var directory = new Option<string>("--dir") { Description = "Data set directory (base.fvecs, query.fvecs, groundtruth.ivecs)", Required = true };

var count = new Option<long>("--count") { Description = "Base rows", Required = true };
var dimension = new Option<int>("--dim") { Description = "Dimension", Required = true };
var queries = new Option<int>("--queries") { Description = "Query rows", DefaultValueFactory = _ => 1000 };
var clusters = new Option<int>("--clusters") { Description = "Mixture components", DefaultValueFactory = _ => 1000 };
var seed = new Option<int>("--seed") { Description = "Seed of the model and the rows", DefaultValueFactory = _ => 42 };
var generateChunk = new Option<int>("--chunk-rows") { Description = "Rows generated and searched at a time", DefaultValueFactory = _ => 500_000 };
var generate = new Command("generate", "Write a seeded low-rank Gaussian mixture with exact ground truth")
{
    directory, count, dimension, queries.AtLeast(1), clusters.AtLeast(1), seed.AtLeast(0), generateChunk.AtLeast(1),
};
generate.AddCrossCheck(result =>
{
    if (result.GetValue(count) < 1) result.AddError("--count must be at least 1.");
    if (result.GetValue(dimension) < 1) result.AddError("--dim must be at least 1.");
});
generate.SetAction(parse =>
{
    DatasetWriter.Write(parse.GetRequiredValue(directory), parse.GetValue(count), parse.GetValue(dimension), parse.GetValue(queries),
        parse.GetValue(clusters), parse.GetValue(seed), parse.GetValue(generateChunk));
    return 0;
});

var index = new Option<string>("--index") { Description = "IndexFactory description, e.g. HNSW32 or OPQ32,IVF16384_HNSW32,PQ32", Required = true };
var trainRows = new Option<int>("--train-rows") { Description = "Train on the first N base rows", DefaultValueFactory = _ => 1_000_000 };
var chunkRows = new Option<int>("--chunk-rows") { Description = "Rows per Add call", DefaultValueFactory = _ => 250_000 };
var buildThreads = new Option<int>("--build-threads") { Description = "HNSW insertion threads (0 = all cores)", DefaultValueFactory = _ => 0 };
var threads = new Option<int>("--threads") { Description = "Search threads", DefaultValueFactory = _ => 1 };
var k = new Option<int>("--k") { Description = "Neighbours per query", DefaultValueFactory = _ => 10 };
var runs = new Option<int>("--runs") { Description = "Best of N timed passes after a warm-up", DefaultValueFactory = _ => 3 };
var queryLimit = new Option<int?>("--queries") { Description = "Use the first N queries" };
var searchParams = new Option<string>("--search-params") { Description = "As AnnBench: \"nprobe=16,32,64\" or \"ef=16,32;...\"", DefaultValueFactory = _ => "" };
var run = new Command("run", "Build an index from DIR streamed and measure it")
{
    directory, index, trainRows.AtLeast(1), chunkRows.AtLeast(1), buildThreads.AtLeast(0), threads.AtLeast(0), k.AtLeast(1), runs.AtLeast(1),
    queryLimit.AtLeast(1), searchParams,
};
run.SetAction(parse =>
{
    string text = parse.GetValue(searchParams) ?? "";
    SearchParameterGrid grid;
    try
    {
        grid = text.Length == 0 ? SearchParameterGrid.Empty : SearchParameterGrid.Parse(text);
    }
    catch (UsageException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return BenchCommandLine.BadOptions;
    }
    Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
    new ScaleRun(parse.GetRequiredValue(directory), parse.GetRequiredValue(index), parse.GetValue(trainRows), parse.GetValue(chunkRows),
        parse.GetValue(buildThreads), parse.GetValue(threads), parse.GetValue(k), parse.GetValue(runs), parse.GetValue(queryLimit)).Run(grid);
    return 0;
});

var centroids = new Option<int>("--k") { Description = "Centroids", Required = true };
var iterations = new Option<int>("--iterations") { Description = "Lloyd iterations (IvfIndex trains with 10, as Faiss's IndexIVF)", DefaultValueFactory = _ => 10 };
var kmeansRows = new Option<int>("--train-rows") { Description = "Cluster the first N base rows", DefaultValueFactory = _ => 1_000_000 };
var kmeansThreads = new Option<int>("--threads") { Description = "Threads (0 = all cores)", DefaultValueFactory = _ => 0 };
var kmeansInit = new Option<KMeansInit?>("--init") { Description = "KMeansPlusPlus or Random (default: what IvfIndex uses for K lists)" };
var kmeans = new Command("kmeans", "Time k-means on the first rows of DIR/base.fvecs")
{
    directory, centroids.AtLeast(1), iterations.AtLeast(1), kmeansRows.AtLeast(1), kmeansThreads.AtLeast(0), kmeansInit,
};
kmeans.SetAction(parse =>
{
    VectorSet<float> rows = VecsReader.ReadFvecs(Path.Combine(parse.GetRequiredValue(directory), "base.fvecs"), parse.GetValue(kmeansRows));
    Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
    int k = parse.GetValue(centroids);
    // The seeding IvfIndex uses for this many lists, unless --init names one.
    KMeansInit init = parse.GetValue(kmeansInit) ?? (k > IvfIndex.PlusPlusSeedingMaxLists ? KMeansInit.Random : KMeansInit.KMeansPlusPlus);
    var options = new KMeansOptions { K = k, Iterations = parse.GetValue(iterations), MaxDegreeOfParallelism = parse.GetValue(kmeansThreads), Init = init };
    var clock = Stopwatch.StartNew();
    KMeansResult result = new KMeans(options).Train(rows.Data, rows.Dimension);
    Console.WriteLine(FormattableString.Invariant(
        $"kmeans K={options.K} init={options.Init} iterations={options.Iterations} on {rows.Count:N0} rows: {clock.Elapsed.TotalSeconds:F2} s, objective {result.FinalObjective:G6}"));
    foreach (string warning in result.Warnings) Console.WriteLine($"  {warning}");
    return 0;
});

return BenchCommandLine.Invoke(new RootCommand("Million-scale data sets and streamed index builds") { generate, kmeans, run }, args);
