namespace DeepRetrieval.Orleans.Grains;

/// <summary>The collections of one store (keyed by the store name): their descriptors, created and deleted here.</summary>
public interface IVectorCatalogGrain : IGrainWithStringKey
{
    /// <summary>The descriptor of a collection, or null when it does not exist.</summary>
    /// <param name="name">Collection name.</param>
    Task<CollectionDescriptor?> GetAsync(string name);

    /// <summary>The names of the existing collections.</summary>
    Task<string[]> ListAsync();

    /// <summary>Creates the collection unless it exists; an existing one must have the same stored shape.</summary>
    /// <param name="name">Collection name.</param>
    /// <param name="schema">The schema (<c>RecordCodec.EncodeSchema</c>).</param>
    /// <param name="shardCount">Shards of a new collection.</param>
    /// <param name="replicaCount">Read replicas per shard of a new collection.</param>
    /// <exception cref="InvalidOperationException">It exists with a different shape.</exception>
    Task<CollectionDescriptor> EnsureAsync(string name, byte[] schema, int shardCount, int replicaCount);

    /// <summary>
    /// Splits a shard of a collection in two halves of its hash range (see <see cref="IVectorShardGrain.SplitAsync"/>) and
    /// publishes the new shard map. A split that failed half-way is finished by the next call to this grain for that
    /// collection.
    /// </summary>
    /// <param name="name">Collection name.</param>
    /// <param name="shard">The shard to split.</param>
    /// <returns>The collection's new descriptor.</returns>
    /// <exception cref="InvalidOperationException">The collection does not exist, or the shard's range cannot be halved.</exception>
    Task<CollectionDescriptor> SplitAsync(string name, int shard);

    /// <summary>Deletes the collection and its shards' storage, if it exists.</summary>
    /// <param name="name">Collection name.</param>
    Task DeleteAsync(string name);
}
