using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using DeepRetrieval.Bench;
using DeepRetrieval.Data;
using DeepRetrieval.RerankBench;
using DeepRetrieval.Reranking;

// Times every re-ranker at a given scale (10,000 queries × 60,000 database vectors by default) and reports the
// process's peak resident memory. Run one method per process so each peak is its own:
//   for m in aqe aqe-alpha dba kreciprocal diffusion fsr; do
//     dotnet run -c Release --project benchmarks/DeepRetrieval.RerankBench -- --method $m --rounds 3; done
// --help lists the options (RerankOptions.cs); exit code 2 on bad options.
return BenchCommandLine.Invoke(RerankOptions.CreateCommand(Run), args);

static int Run(RerankOptions options)
{
    (float[] database, float[] queries, int dimension) = options.Load();
    int queryCount = queries.Length / dimension, databaseCount = database.Length / dimension;
    if (options.Width > databaseCount)
    {
        // Checked here rather than by the parser: the database size is known only once the files are read.
        Console.Error.WriteLine($"error: --width {options.Width} exceeds the {databaseCount:N0} database vectors.");
        return BenchCommandLine.BadOptions;
    }
    Console.WriteLine($"{options.Method}: {queryCount:N0} queries × {databaseCount:N0} database vectors, {dimension}-d, lists of {options.Width}, {Environment.ProcessorCount} cores, load average {LoadAverage()}");

    var store = new MatrixDatabase(database, dimension);
    var clock = Stopwatch.StartNew();
    var initialIds = new long[(long)queryCount * options.Width];
    var initialScores = new float[initialIds.Length];
    store.Search(queries, options.Width, initialIds, initialScores);
    Console.WriteLine($"  initial exact search: {clock.Elapsed.TotalSeconds:F2} s (not counted below)");
    var initial = new RerankingState(queries, store, RankedLists.FromSearch(queryCount, options.Width, initialIds, initialScores, store.Metric));

    var offline = new List<double>();
    var online = new List<double>();
    for (int round = 0; round < options.Rounds; round++)
    {
        clock.Restart();
        IReranker reranker = options.Method switch
        {
            "aqe" => QueryExpansion.Average(2),
            "aqe-alpha" => QueryExpansion.AlphaWeighted(2, 3f),
            "dba" => new DatabaseAugmentation(2, 3f),
            "kreciprocal" => new KReciprocalReranker(20, 6, 0.3f),
            "diffusion" => new Diffusion(AffinityGraph.Build(store, 50, 3f), queryNeighbors: 10),
            "fsr" => new FastSpectralRanking(AffinityGraph.Build(store, 50, 3f), rank: 200, queryNeighbors: 10),
            _ => throw new InvalidOperationException($"RerankOptions let through method '{options.Method}'."),
        };
        if (reranker is DatabaseAugmentation dba)
        {
            MatrixDatabase augmented = dba.Augment(store);
            offline.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
            var ids = new long[initialIds.Length];
            var scores = new float[ids.Length];
            augmented.Search(queries, options.Width, ids, scores);
        }
        else
        {
            offline.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
            reranker.Rerank(initial);
        }

        online.Add(clock.Elapsed.TotalSeconds);
        Console.WriteLine($"  round {round + 1}: offline {offline[^1],8:F2} s   online {online[^1],8:F2} s ({queryCount / online[^1],8:F0} queries/s)");
    }

    Console.WriteLine($"  offline median {Median(offline):F2} s (min {offline.Min():F2}, max {offline.Max():F2}); online median {Median(online):F2} s (min {online.Min():F2}, max {online.Max():F2})");
    Console.WriteLine($"  peak resident memory {PeakResidentMegabytes():F0} MB (input vectors: {(database.Length + queries.Length) * 4 / 1e6:F0} MB); load average {LoadAverage()}");
    return 0;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

// The 1-, 5- and 15-minute load averages: other jobs share the cores, and every figure should say how busy they were.
static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

// VmHWM: the high-water mark of the resident set, from Linux's /proc.
static double PeakResidentMegabytes()
{
    foreach (string line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    return double.NaN;
}
