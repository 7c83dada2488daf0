using System.Globalization;

namespace DeepRetrieval.AnnBench;

/// <summary>The parsed command line.</summary>
internal sealed class Options
{
    public bool Help { get; private set; }
    public string Dataset { get; private set; } = "";
    public string? DataDir { get; private set; }
    public string CacheDir { get; private set; } = DefaultCacheDir();
    public List<string> Indexes { get; } = [];
    public Metric Metric { get; private set; } = Metric.L2;
    public int K { get; private set; } = 10;
    public int? Queries { get; private set; }
    public int Threads { get; private set; } = 1;
    public int Runs { get; private set; } = 1;
    public int Seed { get; private set; } = 42;
    public string? JsonPath { get; private set; }
    public string? PlotPath { get; private set; }
    public List<PeerCurve> Peers { get; } = [];
    public SearchParameterGrid SearchParameters { get; private set; } = SearchParameterGrid.Empty;
    public bool CompareTorch { get; private set; }

    /// <summary>Threads for building the index (0 = all cores).</summary>
    public int BuildThreads { get; private set; }

    /// <summary>Skip the one-query-per-call measurement (qps is then null and recall comes from the batch).</summary>
    public bool BatchOnly { get; private set; }

    /// <summary>Parses <paramref name="args"/>; accepts <c>--name value</c> and <c>--name=value</c>.</summary>
    /// <exception cref="UsageException">An unknown option, a missing or malformed value, or a missing --dataset.</exception>
    public static Options Parse(IReadOnlyList<string> args)
    {
        var options = new Options();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            int equals = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                inline = arg[(equals + 1)..];
            }

            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new UsageException($"Option {name} needs a value.");
                return args[++i];
            }

            void NoValue()
            {
                if (inline is not null) throw new UsageException($"Option {name} takes no value.");
            }

            switch (name)
            {
                case "-h" or "--help": NoValue(); options.Help = true; break;
                case "--dataset": options.Dataset = Value(); break;
                case "--data-dir": options.DataDir = Value(); break;
                case "--cache-dir": options.CacheDir = Value(); break;
                case "--index": options.Indexes.Add(Value()); break;
                case "--metric": options.Metric = ParseMetric(Value()); break;
                case "--k": options.K = ParseInt(name, Value(), min: 1); break;
                case "--queries": options.Queries = ParseInt(name, Value(), min: 1); break;
                case "--threads": options.Threads = ParseInt(name, Value(), min: 0); break;
                case "--runs": options.Runs = ParseInt(name, Value(), min: 1); break;
                case "--seed": options.Seed = ParseInt(name, Value(), min: 0); break;
                case "--json": options.JsonPath = Value(); break;
                case "--plot": options.PlotPath = Value(); break;
                case "--peer": options.Peers.Add(PeerCurve.Parse(Value())); break;
                case "--search-params": options.SearchParameters = SearchParameterGrid.Parse(Value()); break;
                case "--compare-torch": NoValue(); options.CompareTorch = true; break;
                case "--batch-only": NoValue(); options.BatchOnly = true; break;
                case "--build-threads": options.BuildThreads = ParseInt(name, Value(), min: 0); break;
                default:
                    throw new UsageException(arg.StartsWith('-')
                        ? $"Unknown option {name}."
                        : $"Unexpected argument \"{arg}\"; every value follows an option name.");
            }
        }

        if (options.Help) return options;
        if (options.Dataset.Length == 0)
            throw new UsageException("--dataset is required (fashion-mnist, a directory of .fvecs/.ivecs files, or synthetic:N:D).");
        if (options.Indexes.Count == 0) options.Indexes.Add("Flat");
        if (options.PlotPath is not null && !options.PlotPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"--plot writes a PNG image; give a file name ending in .png (got \"{options.PlotPath}\").");
        if (options.Peers.Count > 0 && options.PlotPath is null)
            throw new UsageException("--peer only adds curves to the plot; give --plot FILE.png too.");
        return options;
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
    public static string MetricOption(Metric metric) => metric switch
    {
        Metric.L2 => "l2",
        Metric.InnerProduct => "ip",
        Metric.Cosine => "cosine",
        _ => metric.ToString(),
    };

    private static Metric ParseMetric(string value) => value.ToLowerInvariant() switch
    {
        "l2" or "euclidean" => Metric.L2,
        "ip" or "dot" or "inner_product" => Metric.InnerProduct,
        "cosine" or "angular" => Metric.Cosine,
        _ => throw new UsageException($"Unknown --metric \"{value}\"; use l2, ip or cosine."),
    };

    private static int ParseInt(string name, string value, int min)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result))
            throw new UsageException($"Option {name} needs an integer; got \"{value}\".");
        if (result < min)
            throw new UsageException($"Option {name} must be at least {min}; got {result}.");
        return result;
    }

    private static string DefaultCacheDir()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length == 0) home = Path.GetTempPath();
        return Path.Combine(home, ".cache", "deepretrieval", "annbench");
    }
}
