using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace DeepRetrieval.Tool.Console;

/// <summary>
/// Where the tool writes: results to <see cref="Output"/>, one-line errors to <see cref="Error"/>, and progress either as
/// Spectre.Console bars (when stdout is a terminal) or as log lines through <see cref="Logger"/> (when redirected, so logs and
/// scripts stay readable).
/// </summary>
internal sealed class ToolConsole(TextWriter output, TextWriter error, ILoggerFactory loggerFactory, IAnsiConsole? terminal) : IDisposable
{
    /// <summary>Results (paths, scores, JSON).</summary>
    public TextWriter Output { get; } = output;

    /// <summary>Errors and warnings.</summary>
    public TextWriter Error { get; } = error;

    /// <summary>Progress and run summaries as log lines.</summary>
    public ILogger Logger { get; } = loggerFactory.CreateLogger("deepretrieval");

    /// <summary>The logger factory (the library's components log through it).</summary>
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>The terminal for progress bars, or null when output is redirected.</summary>
    public IAnsiConsole? Terminal { get; } = terminal;

    /// <summary>Also told every progress report (tests use it to interrupt a run at a known point).</summary>
    public Action<long, long>? ProgressObserver { get; init; }

    /// <summary>The process's console: bars when stdout is a terminal, log lines on stderr otherwise.</summary>
    public static ToolConsole ForProcess()
    {
        bool interactive = !System.Console.IsOutputRedirected && !System.Console.IsErrorRedirected;
        ILoggerFactory logging = Microsoft.Extensions.Logging.LoggerFactory.Create(builder => builder
            .SetMinimumLevel(interactive ? LogLevel.Warning : LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
            })
            // Logs go to stderr, so stdout carries only results (and --json stays parseable).
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        return new ToolConsole(System.Console.Out, System.Console.Error, logging, interactive ? AnsiConsole.Console : null);
    }

    /// <summary>A console over writers, for tests and embedding the tool: log lines only.</summary>
    public static ToolConsole ForWriters(TextWriter output, TextWriter error, ILoggerFactory? loggerFactory = null, Action<long, long>? progressObserver = null) =>
        new(output, error, loggerFactory ?? NullLoggerFactory.Instance, terminal: null) { ProgressObserver = progressObserver };

    /// <summary>Runs work that reports progress, showing a bar on a terminal and periodic log lines otherwise.</summary>
    public async Task<T> RunWithProgressAsync<T>(string title, Func<IProgress<(long Done, long Total)>, Task<T>> work)
    {
        if (Terminal is null)
        {
            var log = new LogProgress(Logger, title);
            return await work(new SynchronousProgress<(long Done, long Total)>(value =>
            {
                log.Report(value);
                ProgressObserver?.Invoke(value.Done, value.Total);
            })).ConfigureAwait(false);
        }
        T result = default!;
        await Terminal.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask(title, maxValue: 1);
                var progress = new SynchronousProgress<(long Done, long Total)>(value =>
                {
                    task.MaxValue = Math.Max(1, value.Total);
                    task.Value = value.Done;
                });
                result = await work(progress).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => LoggerFactory.Dispose();

    /// <summary>Log lines at most every 5 seconds, and at the end.</summary>
    private sealed class LogProgress(ILogger logger, string title) : IProgress<(long Done, long Total)>
    {
        private long _lastTicks = Environment.TickCount64;
        private (long, long) _last = (-1, -1);

        public void Report((long Done, long Total) value)
        {
            long now = Environment.TickCount64;
            if (value == _last || (value.Done < value.Total && now - _lastTicks < 5000))
                return;
            _lastTicks = now;
            _last = value;
            logger.LogInformation("{Title}: {Done} of {Total}", title, value.Done, value.Total);
        }
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
