using DeepRetrieval.Tool.Console;

namespace DeepRetrieval.Tool.Tests;

/// <summary>Runs the tool in-process, as the process entry point does, capturing stdout and stderr.</summary>
internal static class ToolRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    public static Result Run(params string[] args) => Run(CancellationToken.None, null, args);

    public static Result Run(CancellationToken cancellationToken, Action<long, long>? progress, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using ToolConsole console = ToolConsole.ForWriters(output, error, progressObserver: progress);
        int code = ToolCommandLine.RunAsync(args, console, cancellationToken).GetAwaiter().GetResult();
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>A failure as the issue asks for it: a non-zero code and one line on stderr naming the problem, no stack trace.</summary>
    public static void ShouldFailWithOneLine(this Result result, int exitCode, string messagePattern)
    {
        result.ExitCode.Should().Be(exitCode, result.ToString());
        string[] lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines.Should().ContainSingle(result.ToString());
        lines[0].Should().StartWith("error: ").And.Match(messagePattern);
        result.Error.Should().NotContain("   at ", "no stack trace");
    }
}
