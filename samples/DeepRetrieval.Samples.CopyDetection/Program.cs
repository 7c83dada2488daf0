using System.CommandLine;
using System.Globalization;
using DeepRetrieval.Samples.CopyDetection;
using DeepRetrieval.Samples.CopyDetection.Evaluation;
using DeepRetrieval.Samples.CopyDetection.Reports;
using Microsoft.Extensions.Logging;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss ";
}));
ILogger log = logging.CreateLogger("CopyDetection");

RootCommand command = CommandLine.Create(async (settings, cancellationToken) =>
{
    try
    {
        BenchmarkReport report = await CopyDetectionBenchmark.RunAsync(settings, log, cancellationToken);
        // The tables are the program's output: stdout, not the log.
        Console.WriteLine();
        Console.Write(ResultTables.Format(report));
        return 0;
    }
    catch (UsageException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("Cancelled.");
        return 1;
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        log.LogError(e, "The run failed");
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
return await parsed.InvokeAsync();
