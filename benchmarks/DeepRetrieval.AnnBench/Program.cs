using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.AnnBench;

internal static class Program
{
    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            Options options = Options.Parse(args);
            if (options.Help)
            {
                Console.WriteLine(Usage.Text);
                return 0;
            }
            return Run(options, Console.Out);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine();
            Console.Error.WriteLine(Usage.Text);
            return 2;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: the benchmark failed: {e}");
            return 1;
        }
    }

    private static int Run(Options options, TextWriter log)
    {
        if (options.CompareTorch && TorchBaseline.ProbeLoad() is string problem)
        {
            Console.Error.WriteLine($"error: --compare-torch: libtorch could not be loaded: {problem}");
            return 1;
        }

        log.WriteLine($"Machine: {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
            $"{Environment.ProcessorCount} cores, {SimdWidth()}{LoadAverage()}");
        BenchDataset data = DatasetLoader.Load(options, log);
        log.WriteLine(data);
        log.WriteLine();

        var rows = new List<ResultRow>();
        var runner = new Runner(data, options, log);
        options.Indexes.ForEach(runner.Validate);
        foreach (string description in options.Indexes)
        {
            rows.AddRange(runner.Run(description));
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        if (options.CompareTorch)
            rows.Add(TorchBaseline.Run(data, options, log));

        log.WriteLine();
        log.WriteLine($"{data.Name}, recall@{options.K}, {data.Queries.Count:N0} queries, best of {options.Runs}:");
        log.WriteLine();
        log.Write(ResultTable.Format(rows, options.CompareTorch ? TorchBaseline.Name : null));
        if (options.CompareTorch)
        {
            ResultRow torch = rows[^1];
            foreach (ResultRow row in rows.Where(r => r.Index == "Flat" && r.SearchParams.Count == 0))
                log.WriteLine($"Flat batch_qps / {TorchBaseline.Name} batch_qps = {row.BatchQps / torch.BatchQps:F2} ({row.BatchQps:N1} vs {torch.BatchQps:N1}, {row.Threads} thread(s))");
        }

        if (options.JsonPath is not null)
        {
            JsonReport.Write(options.JsonPath, rows);
            log.WriteLine($"Wrote {options.JsonPath}");
        }
        if (options.PlotPath is not null)
        {
            RecallPlot.Save(options.PlotPath, rows, options.Peers, $"{data.Name} ({data.Queries.Count:N0} queries, {rows[0].Threads} thread(s))", options.K);
            log.WriteLine($"Wrote {options.PlotPath}");
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
