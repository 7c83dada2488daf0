namespace DeepRetrieval.Orleans.Grains;

/// <summary>The collection (this incarnation of it) does not exist: it was never created, or it was deleted.</summary>
[GenerateSerializer]
public sealed class CollectionNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CollectionNotFoundException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What does not exist.</param>
    public CollectionNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What does not exist.</param>
    /// <param name="innerException">The cause.</param>
    public CollectionNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
