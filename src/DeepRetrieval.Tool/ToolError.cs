namespace DeepRetrieval.Tool;

/// <summary>A problem with the user's input (paths, model, gallery, options): printed as one line, no stack trace.</summary>
internal sealed class ToolError(string message, int exitCode = ExitCodes.BadInput) : Exception(message)
{
    /// <summary>The process exit code.</summary>
    public int ExitCode { get; } = exitCode;
}
