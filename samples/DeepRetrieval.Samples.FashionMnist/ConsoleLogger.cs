using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>Writes the trainer's log lines to the console with the elapsed time (the sample needs nothing fancier).</summary>
internal sealed class ConsoleLogger(DateTime start) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string prefix = logLevel >= LogLevel.Warning ? $"{logLevel}: " : "";
        Console.WriteLine($"  [{(DateTime.UtcNow - start).TotalSeconds,6:F0} s] {prefix}{formatter(state, exception)}");
    }
}
