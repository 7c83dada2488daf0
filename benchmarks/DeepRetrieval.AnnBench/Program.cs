using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.AnnBench;

internal static class Program
{
    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        }));
        ILogger log = logging.CreateLogger("AnnBench");
        RootCommand command = Options.CreateCommand(options =>
        {
            try
            {
                return Run(options, log);
            }
            catch (UsageException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log.LogError(e, "The benchmark failed.");
                return 1;
            }
        });
        ParseResult parsed = command.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for the options.");
            return 2;
        }
        return parsed.Invoke();
    }

    private static int Run(Options options, ILogger log)
    {
        if (options.CompareTorch && TorchBaseline.ProbeLoad() is string problem)
        {
            Console.Error.WriteLine($"error: --compare-torch: libtorch could not be loaded: {problem}");
            return 1;
        }

        log.LogInformation("Machine: {Os}, {Framework}, {Cores} cores, {Simd}{Load}", RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, Environment.ProcessorCount, SimdWidth(), LoadAverage());
        BenchDataset data = DatasetLoader.Load(options, log);
        log.LogInformation("{Dataset}", data);

        var rows = new List<ResultRow>();
        var runner = new Runner(data, options, log);
        foreach (string description in options.Indexes) runner.Validate(description);
        foreach (string description in options.Indexes)
        {
            rows.AddRange(runner.Run(description));
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        if (options.CompareTorch)
            rows.Add(TorchBaseline.Run(data, options, log));

        // The results are the program's output: stdout, not the log.
        Console.WriteLine();
        Console.WriteLine($"{data.Name}, recall@{options.K}, {data.Queries.Count:N0} queries, best of {options.Runs}:");
        Console.WriteLine();
        Console.Write(ResultTable.Format(rows, options.CompareTorch ? TorchBaseline.Name : null));
        if (options.CompareTorch)
        {
            ResultRow torch = rows[^1];
            foreach (ResultRow row in rows.Where(r => r.Index == "Flat" && r.SearchParams.Count == 0))
                Console.WriteLine($"Flat batch_qps / {TorchBaseline.Name} batch_qps = {row.BatchQps / torch.BatchQps:F2} ({row.BatchQps:N1} vs {torch.BatchQps:N1}, {row.Threads} thread(s))");
        }

        if (options.JsonPath is not null)
        {
            JsonReport.Write(options.JsonPath, rows);
            log.LogInformation("Wrote {Path}", options.JsonPath);
        }
        if (options.PlotPath is not null)
        {
            RecallPlot.Save(options.PlotPath, rows, options.Peers, $"{data.Name} ({data.Queries.Count:N0} queries, {rows[0].Threads} thread(s))", options.K);
            log.LogInformation("Wrote {Path}", options.PlotPath);
        }
        return 0;
    }

    // Other processes compete for the cores: worth knowing when reading the timings.
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? $", load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}" : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string SimdWidth() =>
        Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "256-bit SIMD" : "128-bit SIMD";
}
