using DeepRetrieval.Indexes.Hnsw;
using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Globalization;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// Builds one index description and measures it for every search-parameter combination: one query per call
/// (ann-benchmarks mode, reused result buffers) and all queries in one call, each after a warm-up, best of
/// <c>--runs</c>; recall@k from the one-at-a-time results.
/// </summary>
internal sealed class Runner(BenchDataset data, Options options, ILogger log)
{
    // Warm-ups run at least this long (and at least WarmUpQueries single queries; batches of the first WarmUpBatch
    // queries), so tiered JIT has promoted the hot loops before timing starts.
    private static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(1);
    private const int WarmUpQueries = 100;
    private const int WarmUpBatch = 256;

    /// <summary>
    /// Checks --k, the description and every search-parameter value on an empty index, so a mistake is reported
    /// before any (possibly long) build.
    /// </summary>
    /// <exception cref="UsageException">Something is wrong.</exception>
    public void Validate(string description)
    {
        if (options.K > data.Base.Count)
            throw new UsageException($"--k {options.K} exceeds the {data.Base.Count} base vectors.");
        if (options.K > data.GroundTruth.Dimension)
            throw new UsageException($"--k {options.K} exceeds the ground truth's {data.GroundTruth.Dimension} neighbours per query.");
        IVectorIndex index = Create(description);
        try
        {
            foreach (SearchParameterSet parameters in options.SearchParameters.Combinations())
                Apply(index, description, parameters);
        }
        finally
        {
            (index as IDisposable)?.Dispose();
        }
    }

    private List<FilterCase>? _filterCases;

    // Built once for all indexes: the allowed sets and their ground truth.
    private List<FilterCase> FilterCases()
    {
        if (_filterCases is not null) return _filterCases;
        _filterCases = [];
        foreach (string kind in options.FilterKinds)
            foreach (double selectivity in options.FilterSelectivities)
            {
                FilterCase filter = FilterCase.Create(data, kind, selectivity, options.K, options.Seed, log);
                if (options.FilterDump is not null) filter.Dump(options.FilterDump, options.K);
                _filterCases.Add(filter);
            }
        return _filterCases;
    }

    public List<ResultRow> Run(string description)
    {
        Validate(description);
        IVectorIndex index = Create(description);
        try
        {
            double buildSeconds = Build(index);
            var footprint = MemoryFootprint.Of(index);
            log.LogInformation("{Message}", FormattableString.Invariant($"{description}: built in {buildSeconds:F2} s, {footprint}"));

            var rows = new List<ResultRow>();
            foreach (SearchParameterSet parameters in options.SearchParameters.Combinations())
            {
                Apply(index, description, parameters);
                if (options.FilterSelectivities.Count > 0)
                    foreach (FilterCase filter in FilterCases()) rows.Add(MeasureFiltered(index, description, parameters, buildSeconds, filter));
                else
                    rows.Add(Measure(index, description, parameters, buildSeconds));
            }
            return rows;
        }
        finally
        {
            (index as IDisposable)?.Dispose();
        }
    }

    private IVectorIndex Create(string description)
    {
        try
        {
            return IndexFactory.Create(data.Dimension, description, data.Metric);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--index \"{description}\": {MessageOf(e)}");
        }
    }

    private double Build(IVectorIndex index)
    {
        ReadOnlySpan<float> vectors = data.Base.Data;
        // Graph builds are the only multi-threaded builds so far; --build-threads makes them comparable with
        // single-threaded peers.
        if (index is HnswIndex hnsw) hnsw.BuildThreads = options.BuildThreads;
        long start = Stopwatch.GetTimestamp();
        if (!index.IsTrained) index.Train(vectors);
        index.Add(vectors);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static void Apply(IVectorIndex index, string description, SearchParameterSet parameters)
    {
        foreach ((string name, double value) in parameters.Values)
        {
            try
            {
                index.SetSearchParameter(name, value);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"--search-params: index \"{description}\" rejects {name}={value}: {MessageOf(e)}"));
            }
        }
    }

    private ResultRow Measure(IVectorIndex index, string description, SearchParameterSet parameters, double buildSeconds)
    {
        int k = options.K, d = data.Dimension, queryCount = data.Queries.Count;
        float[] queries = data.Queries.Data;
        var searchOptions = new SearchOptions { MaxDegreeOfParallelism = options.Threads };

        // One query per call, results written straight into row q of the shared buffers.
        var ids = new long[(long)queryCount * k];
        var distances = new float[ids.Length];
        Action<int> searchOne = q =>
            index.Search(queries.AsSpan(q * d, d), k, ids.AsSpan(q * k, k), distances.AsSpan(q * k, k), searchOptions);
        ThroughputResult? single = null;
        long allocatedPerQuery = 0;
        if (!options.BatchOnly)
        {
            WarmUp(searchOne, queryCount);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            single = Best(() => Throughput.MeasureLoop(queryCount, searchOne));
            allocatedPerQuery = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / ((long)queryCount * options.Runs);
        }

        // All queries in one call.
        var batchIds = new long[ids.Length];
        var batchDistances = new float[ids.Length];
        int warmRows = Math.Min(queryCount, WarmUpBatch);
        long warmStart = Stopwatch.GetTimestamp();
        do index.Search(queries.AsSpan(0, warmRows * d), k, batchIds, batchDistances, searchOptions);
        while (Stopwatch.GetElapsedTime(warmStart) < WarmUpTime);
        ThroughputResult batch = Best(() => Throughput.MeasureBatch(queryCount,
            () => index.Search(queries, k, batchIds, batchDistances, searchOptions)));

        int depth = data.GroundTruth.Dimension;
        double batchRecall = NeighborRecall.RecallAtK(batchIds, k, data.GroundTruth.Data, depth, k);
        double recall = single is null ? batchRecall : NeighborRecall.RecallAtK(ids, k, data.GroundTruth.Data, depth, k);

        string label = parameters.Values.Count == 0 ? description : $"{description} [{parameters}]";
        if (single is not null) log.LogInformation("{Message}", $"{label}: one at a time {single}");
        log.LogInformation("{Message}", $"{label}: batch        {batch}");
        if (allocatedPerQuery > 0)
            log.LogInformation("{Message}", $"{label}: note: the one-at-a-time loop allocated {allocatedPerQuery:N0} B per query.");
        if (Math.Abs(recall - batchRecall) > 1e-9)
            log.LogInformation("{Message}", FormattableString.Invariant($"{label}: note: batched search has recall {batchRecall:F4}, one at a time {recall:F4}."));

        return new ResultRow
        {
            Index = description,
            BuildParams = new Dictionary<string, string>
            {
                ["kind"] = index.Kind,
                ["metric"] = Options.MetricSpelling(index.Metric),
            },
            SearchParams = parameters.Values.ToDictionary(p => p.Name, p => p.Value),
            BuildSeconds = buildSeconds,
            Recall = recall,
            Qps = single?.QueriesPerSecond,
            BatchQps = batch.QueriesPerSecond,
            MemoryBytes = index.MemoryUsageBytes,
            Threads = options.Threads == 0 ? Environment.ProcessorCount : options.Threads,
            K = k,
            Queries = queryCount,
        };
    }

    // One query per call with the query's filter; recall against its exact neighbours within the allowed ids. Also
    // checks that no filtered-out id came back.
    private ResultRow MeasureFiltered(IVectorIndex index, string description, SearchParameterSet parameters, double buildSeconds, FilterCase filter)
    {
        int k = options.K, d = data.Dimension, queryCount = data.Queries.Count;
        float[] queries = data.Queries.Data;
        SearchOptions[] perGroup = filter.OptionsFor(options.FilterApi, options.Threads, options.ExactScanThreshold);
        var ids = new long[(long)queryCount * k];
        var distances = new float[ids.Length];
        Action<int> searchOne = q =>
            index.Search(queries.AsSpan(q * d, d), k, ids.AsSpan(q * k, k), distances.AsSpan(q * k, k), perGroup[filter.GroupOf[q]]);
        WarmUp(searchOne, queryCount);
        ThroughputResult single = Best(() => Throughput.MeasureLoop(queryCount, searchOne));
        for (int q = 0; q < queryCount; q++)
            foreach (long id in ids.AsSpan(q * k, k))
                if (id >= 0 && filter.Allowed[filter.GroupOf[q]].AsSpan().BinarySearch(id) < 0)
                    throw new InvalidOperationException($"{description}: query {q} got id {id}, which its filter does not allow.");
        double recall = NeighborRecall.RecallAtK(ids, k, filter.Truth, k, k);
        string label = $"{description} [{parameters}] {filter.Label} ({options.FilterApi})";
        log.LogInformation("{Message}", FormattableString.Invariant($"{label}: recall {recall:F4}, one at a time {single}"));
        return new ResultRow
        {
            Index = description,
            BuildParams = new Dictionary<string, string> { ["kind"] = index.Kind, ["metric"] = Options.MetricSpelling(index.Metric) },
            SearchParams = parameters.Values.ToDictionary(p => p.Name, p => p.Value),
            Filter = $"{filter.Label} ({options.FilterApi})",
            BuildSeconds = buildSeconds,
            Recall = recall,
            Qps = single.QueriesPerSecond,
            BatchQps = 0,
            MemoryBytes = index.MemoryUsageBytes,
            Threads = options.Threads == 0 ? Environment.ProcessorCount : options.Threads,
            K = k,
            Queries = queryCount,
        };
    }

    // ArgumentException.Message ends with " (Parameter 'name')", which means nothing to a command-line user.
    private static string MessageOf(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);

    // Cycles through the queries for at least WarmUpTime and WarmUpQueries calls (fewer when there are fewer queries
    // and one pass already takes longer than WarmUpTime).
    private static void WarmUp(Action<int> searchOne, int queryCount)
    {
        long start = Stopwatch.GetTimestamp();
        int minimum = Math.Min(WarmUpQueries, queryCount);
        for (int calls = 0; calls < minimum || Stopwatch.GetElapsedTime(start) < WarmUpTime; calls++)
            searchOne(calls % queryCount);
    }

    private ThroughputResult Best(Func<ThroughputResult> measure)
    {
        ThroughputResult best = measure();
        for (int run = 1; run < options.Runs; run++)
        {
            ThroughputResult next = measure();
            if (next.Elapsed < best.Elapsed) best = next;
        }
        return best;
    }
}
