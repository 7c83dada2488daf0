namespace DeepRetrieval.Orleans.Grains;

/// <summary>A replica has not applied the log position a read asked for (and could not catch up from storage yet); the router asks another member.</summary>
[GenerateSerializer]
public sealed class ReplicaBehindException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ReplicaBehindException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Which replica and how far behind.</param>
    public ReplicaBehindException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">Which replica and how far behind.</param>
    /// <param name="innerException">The cause.</param>
    public ReplicaBehindException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
