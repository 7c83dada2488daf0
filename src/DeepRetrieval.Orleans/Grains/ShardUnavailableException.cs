namespace DeepRetrieval.Orleans.Grains;

/// <summary>No member of a shard's replica set answered a read (and partial results were not allowed).</summary>
[GenerateSerializer]
public sealed class ShardUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ShardUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Which shard and what failed.</param>
    public ShardUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">Which shard and what failed.</param>
    /// <param name="innerException">The last member's failure.</param>
    public ShardUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
