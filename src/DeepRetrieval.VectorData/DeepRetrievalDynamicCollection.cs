using DeepRetrieval.VectorData.Mapping;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace DeepRetrieval.VectorData;

/// <summary>
/// A collection whose records are <c>Dictionary&lt;string, object?&gt;</c>, keyed by property name, described by a record
/// definition: the dynamic mapping of the abstraction (no reflection over record types; NativeAOT-friendly). It shares its
/// folder and engine with typed handles of the same collection.
/// </summary>
#pragma warning disable CA1711 // The abstraction's own naming.
public sealed class DeepRetrievalDynamicCollection : DeepRetrievalCollection<object, Dictionary<string, object?>>
#pragma warning restore CA1711
{
    /// <summary>Creates a handle to a collection kept under <paramref name="path"/>.</summary>
    /// <param name="path">The root folder.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="options">Options; <see cref="VectorStoreCollectionOptions.Definition"/> is required.</param>
    public DeepRetrievalDynamicCollection(string path, string name, DeepRetrievalCollectionOptions options)
        : base(new FolderRecordEngineProvider(path, (options ?? throw new ArgumentNullException(nameof(options))).Storage.ToEngineOptions()), name, options, DynamicModel)
    {
    }

    internal DeepRetrievalDynamicCollection(IRecordEngineProvider provider, string name, DeepRetrievalCollectionOptions options)
        : base(provider, name, options, DynamicModel)
    {
    }

    private static CollectionModel DynamicModel(DeepRetrievalCollectionOptions options) =>
        new DeepRetrievalModelBuilder().BuildDynamic(
            options.Definition ?? throw new ArgumentException("A dynamic collection needs a record definition (options.Definition).", nameof(options)),
            options.EmbeddingGenerator);
}
