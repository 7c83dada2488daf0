using Microsoft.Extensions.AI;

namespace DeepRetrieval.VectorData;

/// <summary>Options of a <see cref="DeepRetrievalVectorStore"/>.</summary>
public sealed class DeepRetrievalVectorStoreOptions
{
    /// <summary>Creates default options.</summary>
    public DeepRetrievalVectorStoreOptions()
    {
    }

    /// <summary>Copies options.</summary>
    /// <param name="source">Options to copy, or null for defaults.</param>
    public DeepRetrievalVectorStoreOptions(DeepRetrievalVectorStoreOptions? source)
    {
        EmbeddingGenerator = source?.EmbeddingGenerator;
        Storage = source?.Storage.Clone() ?? new DeepRetrievalStorageOptions();
    }

    /// <summary>The embedding generator used by vector properties that have none of their own (nor their collection).</summary>
    public IEmbeddingGenerator? EmbeddingGenerator { get; set; }

    /// <summary>How the store's collections are kept on disk and indexed.</summary>
    public DeepRetrievalStorageOptions Storage { get; set; } = new();
}
