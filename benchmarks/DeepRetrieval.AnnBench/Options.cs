using System.CommandLine;
using System.CommandLine.Parsing;

namespace DeepRetrieval.AnnBench;

/// <summary>The command line (System.CommandLine) and the options it yields.</summary>
internal sealed class Options
{
    public required string Dataset { get; init; }
    public string? DataDir { get; init; }
    public required string CacheDir { get; init; }
    public required IReadOnlyList<string> Indexes { get; init; }
    public Metric Metric { get; init; }
    public int K { get; init; }
    public int? Queries { get; init; }
    public int Threads { get; init; }
    public int Runs { get; init; }
    public int Seed { get; init; }
    public string? JsonPath { get; init; }
    public string? PlotPath { get; init; }
    public required IReadOnlyList<PeerCurve> Peers { get; init; }
    public required SearchParameterGrid SearchParameters { get; init; }
    public bool CompareTorch { get; init; }

    /// <summary>Threads for building the index (0 = all cores).</summary>
    public int BuildThreads { get; init; }

    /// <summary>Skip the one-query-per-call measurement (qps is then null and recall comes from the batch).</summary>
    public bool BatchOnly { get; init; }

    /// <summary>Filtered runs: the fractions of ids the filters allow (empty: no filtered runs).</summary>
    public IReadOnlyList<double> FilterSelectivities { get; init; } = [];

    /// <summary>Filtered runs: random and/or centroid (see <see cref="FilterCase"/>).</summary>
    public IReadOnlyList<string> FilterKinds { get; init; } = [];

    /// <summary>How the filter reaches the index: bitmap, batch (selectors) or predicate (a bare Func).</summary>
    public string FilterApi { get; init; } = "bitmap";

    /// <summary>HNSW's <c>ExactScanThreshold</c> for filtered runs, or null for its automatic choice.</summary>
    public int? ExactScanThreshold { get; init; }

    /// <summary>Where to write the filter cases for a peer's driver, or null.</summary>
    public string? FilterDump { get; init; }

    private static readonly Option<double[]> FilterSelectivityOption = new("--filter-selectivity")
    {
        Description = "Filtered runs instead of plain ones: fractions of ids allowed, e.g. 0.01,0.1,0.5 (one query at a time; recall against the exact neighbours within the allowed ids)",
        DefaultValueFactory = _ => [],
        CustomParser = result => Guarded(result, [], () => result.Tokens.SelectMany(t => t.Value.Split(',')).Select(ParseFraction).ToArray()),
    };
    private static readonly Option<string[]> FilterKindOption = new("--filter-kind")
    {
        Description = "random (one uniform id set) and/or centroid (the ids nearest a random base vector, 16 sets, query i uses set i mod 16), comma-separated",
        DefaultValueFactory = _ => ["random", "centroid"],
        CustomParser = result => Guarded(result, [], () => result.Tokens.SelectMany(t => t.Value.Split(',')).Select(kind =>
            kind is "random" or "centroid" ? kind : throw new UsageException($"--filter-kind: unknown \"{kind}\"; use random or centroid.")).ToArray()),
    };
    private static readonly Option<string> FilterApiOption = new("--filter-api")
    {
        Description = "bitmap (IdSelectorBitmap), batch (IdSelectorBatch) or predicate (SearchOptions.Filter, a HashSet lookup)",
        DefaultValueFactory = _ => "bitmap",
    };
    private static readonly Option<int?> ExactScanThresholdOption = new("--exact-scan-threshold") { Description = "Filtered HNSW runs: HnswSearchOptions.ExactScanThreshold (0 = always the graph; default: automatic)" };
    private static readonly Option<string?> FilterDumpOption = new("--filter-dump") { Description = "Write each filter case (allowed ids, groups, ground truth) to DIR for a peer's driver" };

    private static readonly Option<string> DatasetOption = new("--dataset")
    {
        Description = "fashion-mnist (60k train images as base, test images as queries); DIR (DIR/base.fvecs, query.fvecs, " +
                      "groundtruth.ivecs); or synthetic:N:D (N seeded clustered-Gaussian vectors of dimension D, 1000 queries)",
        Required = true,
    };
    private static readonly Option<string?> DataDirOption = new("--data-dir") { Description = "Where the Fashion-MNIST IDX files are (default: the Debian dataset path)" };
    private static readonly Option<string> CacheDirOption = new("--cache-dir") { Description = "Ground-truth cache", DefaultValueFactory = _ => DefaultCacheDir() };
    private static readonly Option<int?> QueriesOption = new("--queries") { Description = "Use the first N queries (default: all)" };
    private static readonly Option<int> SeedOption = new("--seed") { Description = "Seed of synthetic data", DefaultValueFactory = _ => 42 };
    private static readonly Option<string[]> IndexOption = new("--index")
    {
        Description = "Index description for IndexFactory, e.g. Flat, HNSW32, IVF1024,PQ16 (repeat to run several)",
        DefaultValueFactory = _ => ["Flat"],
    };
    private static readonly Option<Metric> MetricOption = new("--metric")
    {
        Description = "l2, ip or cosine",
        DefaultValueFactory = _ => Metric.L2,
        CustomParser = ParseMetric,
    };
    private static readonly Option<SearchParameterGrid> SearchParamsOption = new("--search-params")
    {
        Description = "Search-time parameters to sweep, e.g. \"ef=10,20,40\" or \"nprobe=1,4,16;k_factor=1,2\" (cartesian product)",
        DefaultValueFactory = _ => SearchParameterGrid.Empty,
        CustomParser = result => Guarded(result, SearchParameterGrid.Empty, () => SearchParameterGrid.Parse(result.Tokens[0].Value)),
    };
    private static readonly Option<int> KOption = new("--k") { Description = "Neighbours per query", DefaultValueFactory = _ => 10 };
    private static readonly Option<int> ThreadsOption = new("--threads") { Description = "Threads for batched search (0 = all cores)", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> RunsOption = new("--runs") { Description = "Keep the best of N timings", DefaultValueFactory = _ => 1 };
    private static readonly Option<bool> CompareTorchOption = new("--compare-torch") { Description = "Also time libtorch's exact search (matmul + topk) on the same data" };
    private static readonly Option<bool> BatchOnlyOption = new("--batch-only") { Description = "Skip the one-query-per-call timing (qps is then null)" };
    private static readonly Option<int> BuildThreadsOption = new("--build-threads") { Description = "Threads for building the index (0 = all cores)" };
    private static readonly Option<string?> JsonOption = new("--json") { Description = "Write the result rows as JSON" };
    private static readonly Option<string?> PlotOption = new("--plot") { Description = "Plot recall against QPS (log scale) as a PNG, one line per index" };
    private static readonly Option<PeerCurve[]> PeerOption = new("--peer")
    {
        Description = "NAME=FILE.csv: another library's \"recall,qps\" points, measured by its own driver in the same session, added to the plot (repeatable)",
        DefaultValueFactory = _ => [],
        CustomParser = result => Guarded(result, [], () => result.Tokens.Select(t => PeerCurve.Parse(t.Value)).ToArray()),
    };

    /// <summary>The root command: every option, validation, and <paramref name="run"/> as its action.</summary>
    public static RootCommand CreateCommand(Func<Options, int> run)
    {
        var command = new RootCommand(
            "Builds each index, times queries one at a time (qps) and in one batch (batch_qps), and measures neighbour-overlap " +
            "recall@k against exact ground truth, in the manner of ann-benchmarks. Exit codes: 0 success, 1 run failure, 2 bad options.")
        {
            DatasetOption, DataDirOption, CacheDirOption, QueriesOption, SeedOption, IndexOption, MetricOption, SearchParamsOption,
            KOption, ThreadsOption, RunsOption, CompareTorchOption, BatchOnlyOption, BuildThreadsOption, JsonOption, PlotOption, PeerOption,
            FilterSelectivityOption, FilterKindOption, FilterApiOption, FilterDumpOption, ExactScanThresholdOption,
        };
        FilterApiOption.AcceptOnlyFromAmong("bitmap", "batch", "predicate");
        AtLeast(KOption, 1);
        AtLeast(QueriesOption, 1);
        AtLeast(ThreadsOption, 0);
        AtLeast(RunsOption, 1);
        AtLeast(SeedOption, 0);
        AtLeast(BuildThreadsOption, 0);
        PlotOption.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } path && !path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                result.AddError($"--plot writes a PNG image; give a file name ending in .png (got \"{path}\").");
        });
        command.Validators.Add(result =>
        {
            if (result.GetValue(PeerOption) is { Length: > 0 } && result.GetValue(PlotOption) is null)
                result.AddError("--peer only adds curves to the plot; give --plot FILE.png too.");
        });
        command.SetAction(parse => run(new Options
        {
            Dataset = parse.GetRequiredValue(DatasetOption),
            DataDir = parse.GetValue(DataDirOption),
            CacheDir = parse.GetRequiredValue(CacheDirOption),
            Indexes = parse.GetRequiredValue(IndexOption),
            Metric = parse.GetValue(MetricOption),
            K = parse.GetValue(KOption),
            Queries = parse.GetValue(QueriesOption),
            Threads = parse.GetValue(ThreadsOption),
            Runs = parse.GetValue(RunsOption),
            Seed = parse.GetValue(SeedOption),
            JsonPath = parse.GetValue(JsonOption),
            PlotPath = parse.GetValue(PlotOption),
            Peers = parse.GetRequiredValue(PeerOption),
            SearchParameters = parse.GetRequiredValue(SearchParamsOption),
            CompareTorch = parse.GetValue(CompareTorchOption),
            BatchOnly = parse.GetValue(BatchOnlyOption),
            BuildThreads = parse.GetValue(BuildThreadsOption),
            FilterSelectivities = parse.GetRequiredValue(FilterSelectivityOption),
            FilterKinds = parse.GetRequiredValue(FilterKindOption),
            FilterApi = parse.GetRequiredValue(FilterApiOption),
            FilterDump = parse.GetValue(FilterDumpOption),
            ExactScanThreshold = parse.GetValue(ExactScanThresholdOption),
        }));
        return command;
    }

    /// <summary>The name ann-benchmarks gives the metric in dataset names.</summary>
    public static string MetricName(Metric metric) => metric switch
    {
        Metric.L2 => "euclidean",
        Metric.InnerProduct => "dot",
        Metric.Cosine => "angular",
        _ => metric.ToString(),
    };

    /// <summary>The spelling used on the command line.</summary>
    public static string MetricSpelling(Metric metric) => metric switch
    {
        Metric.L2 => "l2",
        Metric.InnerProduct => "ip",
        Metric.Cosine => "cosine",
        _ => metric.ToString(),
    };

    private static Metric ParseMetric(ArgumentResult result)
    {
        string value = result.Tokens[0].Value;
        switch (value.ToLowerInvariant())
        {
            case "l2" or "euclidean": return Metric.L2;
            case "ip" or "dot" or "inner_product": return Metric.InnerProduct;
            case "cosine" or "angular": return Metric.Cosine;
            default:
                result.AddError($"Unknown --metric \"{value}\"; use l2, ip or cosine.");
                return Metric.L2;
        }
    }

    private static double ParseFraction(string text)
    {
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) || !(value > 0 && value <= 1))
            throw new UsageException($"--filter-selectivity: \"{text}\" is not a fraction in (0, 1].");
        return value;
    }

    private static T Guarded<T>(ArgumentResult result, T fallback, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (UsageException e)
        {
            result.AddError(e.Message);
            return fallback;
        }
    }

    private static void AtLeast(Option<int> option, int min) =>
        option.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value < min) result.AddError($"{option.Name} must be at least {min}; got {value}.");
        });

    private static void AtLeast(Option<int?> option, int min) =>
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is int value && value < min) result.AddError($"{option.Name} must be at least {min}; got {value}.");
        });

    private static string DefaultCacheDir()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length == 0) home = Path.GetTempPath();
        return Path.Combine(home, ".cache", "deepretrieval", "annbench");
    }
}
