using System.Diagnostics.CodeAnalysis;
using DeepRetrieval.Orleans;
using DeepRetrieval.VectorData;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.VectorData;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the DeepRetrieval vector store over an Orleans cluster, shaped as <c>AddDeepRetrievalVectorStore</c>: an app
/// moves from the in-process store to the cluster by changing this one registration. The container must provide an
/// <see cref="IGrainFactory"/>: an Orleans client (<c>UseOrleansClient</c>) or a silo (<c>UseOrleans</c>, co-hosted).
/// </summary>
public static class DeepRetrievalOrleansServiceCollectionExtensions
{
    /// <summary>Registers a <see cref="DeepRetrievalVectorStore"/> over the cluster as <see cref="VectorStore"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="options">Store name, shard and replica counts of new collections, read consistency; null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDeepRetrievalOrleansVectorStore(this IServiceCollection services, DeepRetrievalOrleansOptions? options = null,
        ServiceLifetime lifetime = ServiceLifetime.Singleton)
        => AddKeyedDeepRetrievalOrleansVectorStore(services, serviceKey: null, options, lifetime);

    /// <summary>Registers a keyed <see cref="DeepRetrievalVectorStore"/> over the cluster as <see cref="VectorStore"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The service key, or null for an unkeyed registration.</param>
    /// <param name="options">Store name, shard and replica counts of new collections, read consistency; null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKeyedDeepRetrievalOrleansVectorStore(this IServiceCollection services, object? serviceKey,
        DeepRetrievalOrleansOptions? options = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Add(new ServiceDescriptor(typeof(DeepRetrievalVectorStore), serviceKey, (sp, _) =>
        {
            DeepRetrievalOrleansOptions effective = options?.Clone() ?? new DeepRetrievalOrleansOptions();
            effective.LoggerFactory ??= sp.GetService<ILoggerFactory>();
            var provider = new OrleansRecordEngineProvider(sp.GetRequiredService<IGrainFactory>(), effective);
            return new DeepRetrievalVectorStore(provider, new DeepRetrievalVectorStoreOptions { EmbeddingGenerator = sp.GetService<IEmbeddingGenerator>() });
        }, lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStore), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalVectorStore>(key), lifetime));
        return services;
    }

    /// <summary>
    /// Registers a collection of the cluster store as <see cref="VectorStoreCollection{TKey, TRecord}"/>,
    /// <see cref="IVectorSearchable{TRecord}"/> and <see cref="IKeywordHybridSearchable{TRecord}"/> (register the store first,
    /// with the same service key).
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TRecord">The record type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="serviceKey">The service key of the store and the collection, or null.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    [RequiresDynamicCode("This method maps records by reflection; use GetDynamicCollection on the store for NativeAOT.")]
    [RequiresUnreferencedCode("This method maps records by reflection; use GetDynamicCollection on the store for trimmed applications.")]
    public static IServiceCollection AddDeepRetrievalOrleansCollection<TKey, TRecord>(this IServiceCollection services, string name, object? serviceKey = null,
        ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.Add(new ServiceDescriptor(typeof(DeepRetrievalCollection<TKey, TRecord>), serviceKey,
            (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalVectorStore>(key).GetCollection<TKey, TRecord>(name), lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStoreCollection<TKey, TRecord>), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalCollection<TKey, TRecord>>(key), lifetime));
        services.Add(new ServiceDescriptor(typeof(IVectorSearchable<TRecord>), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalCollection<TKey, TRecord>>(key), lifetime));
        services.Add(new ServiceDescriptor(typeof(IKeywordHybridSearchable<TRecord>), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalCollection<TKey, TRecord>>(key), lifetime));
        return services;
    }
}
