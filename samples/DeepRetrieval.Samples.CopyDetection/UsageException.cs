namespace DeepRetrieval.Samples.CopyDetection;

/// <summary>A problem with the options or the machine's photos that the user can fix; printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
