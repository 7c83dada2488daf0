using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData;

/// <summary>Options of a <see cref="DeepRetrievalCollection{TKey, TRecord}"/>.</summary>
public sealed class DeepRetrievalCollectionOptions : VectorStoreCollectionOptions
{
    /// <summary>Creates default options.</summary>
    public DeepRetrievalCollectionOptions()
    {
    }

    /// <summary>Copies options.</summary>
    /// <param name="source">Options to copy, or null for defaults.</param>
    public DeepRetrievalCollectionOptions(DeepRetrievalCollectionOptions? source)
        : base(source)
    {
        Storage = source?.Storage.Clone() ?? new DeepRetrievalStorageOptions();
    }

    /// <summary>How the collection is kept on disk and indexed (used when the collection is created on its own, not through a store).</summary>
    public DeepRetrievalStorageOptions Storage { get; set; } = new();
}
