namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// The request was routed with an older shard map than the shard's (it was split since): the caller must fetch the
/// collection's descriptor again and route anew. The client does that by itself.
/// </summary>
[GenerateSerializer]
public sealed class ShardMapChangedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ShardMapChangedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Which shard and which versions.</param>
    public ShardMapChangedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">Which shard and which versions.</param>
    /// <param name="innerException">The cause.</param>
    public ShardMapChangedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
