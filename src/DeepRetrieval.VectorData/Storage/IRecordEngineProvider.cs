namespace DeepRetrieval.VectorData.Storage;

/// <summary>
/// Named collections of records: what a <c>DeepRetrievalVectorStore</c> stands on. The folder provider keeps each collection in
/// a sub-folder; a cluster provider can route names to shard groups.
/// </summary>
public interface IRecordEngineProvider
{
    /// <summary>A name for the store's metadata (the root folder, say).</summary>
    string StoreName { get; }

    /// <summary>True when the collection exists.</summary>
    /// <param name="name">Collection name.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken);

    /// <summary>The names of the existing collections.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    IAsyncEnumerable<string> ListCollectionNamesAsync(CancellationToken cancellationToken);

    /// <summary>Creates the collection with this schema unless it exists; an existing one must have the same stored shape.</summary>
    /// <param name="name">Collection name.</param>
    /// <param name="schema">Its schema.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="InvalidOperationException">It exists with a different shape.</exception>
    Task EnsureCollectionExistsAsync(string name, RecordSchema schema, CancellationToken cancellationToken);

    /// <summary>Deletes the collection and its records if it exists; open engines of it become unusable.</summary>
    /// <param name="name">Collection name.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken);

    /// <summary>Opens the collection, or returns null when it does not exist. Dispose the engine when done with it.</summary>
    /// <param name="name">Collection name.</param>
    /// <param name="schema">The schema the caller expects.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="InvalidOperationException">It exists with a different shape.</exception>
    Task<IRecordEngine?> OpenAsync(string name, RecordSchema schema, CancellationToken cancellationToken);
}
