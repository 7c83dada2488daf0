namespace DeepRetrieval.Tool;

/// <summary>The tool's exit codes (docs/cli.md lists them).</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>Bad input: a missing or empty folder, an unreadable model or image, a gallery that does not fit the model.</summary>
    public const int BadInput = 1;

    /// <summary>The command line itself is wrong (unknown option, missing argument).</summary>
    public const int Usage = 2;

    /// <summary>An unexpected failure (a bug or the machine: out of disk space, I/O error).</summary>
    public const int Failure = 3;

    /// <summary>Interrupted (Ctrl+C); an interrupted index run keeps what it embedded and resumes when run again.</summary>
    public const int Interrupted = 130;
}
