namespace DeepRetrieval.AnnBench;

/// <summary>A mistake in the command line or its inputs: reported with the usage text and exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
