using System.Diagnostics.CodeAnalysis;
using DeepRetrieval.VectorData;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers <see cref="DeepRetrievalVectorStore"/> and <see cref="DeepRetrievalCollection{TKey, TRecord}"/> on an
/// <see cref="IServiceCollection"/>, shaped as the other connectors' registrations (<c>AddQdrantVectorStore</c>,
/// <c>AddPostgresCollection</c> …): plain and keyed forms, a lifetime (singleton by default), and the
/// <see cref="IEmbeddingGenerator"/> of the container used when the options name none.
/// </summary>
public static class DeepRetrievalServiceCollectionExtensions
{
    private const string DynamicCodeMessage = "This method maps records by reflection; it is incompatible with NativeAOT. Register a DeepRetrievalVectorStore and use GetDynamicCollection instead.";
    private const string UnreferencedCodeMessage = "This method maps records by reflection; it is incompatible with trimming. Register a DeepRetrievalVectorStore and use GetDynamicCollection instead.";

    /// <summary>Registers a <see cref="DeepRetrievalVectorStore"/> over a root folder as <see cref="VectorStore"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="path">The root folder of the store's collections.</param>
    /// <param name="options">Embedding generator and storage settings; null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDeepRetrievalVectorStore(this IServiceCollection services, string path,
        DeepRetrievalVectorStoreOptions? options = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        => AddKeyedDeepRetrievalVectorStore(services, serviceKey: null, path, options, lifetime);

    /// <summary>Registers a keyed <see cref="DeepRetrievalVectorStore"/> over a root folder as <see cref="VectorStore"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The service key, or null for an unkeyed registration.</param>
    /// <param name="path">The root folder of the store's collections.</param>
    /// <param name="options">Embedding generator and storage settings; null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKeyedDeepRetrievalVectorStore(this IServiceCollection services, object? serviceKey, string path,
        DeepRetrievalVectorStoreOptions? options = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return AddKeyedDeepRetrievalVectorStore(services, serviceKey, _ => path, _ => options, lifetime);
    }

    /// <summary>Registers a <see cref="DeepRetrievalVectorStore"/> whose folder and options come from the container (configuration, say).</summary>
    /// <param name="services">The services.</param>
    /// <param name="pathProvider">Returns the root folder.</param>
    /// <param name="optionsProvider">Returns the options, or null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDeepRetrievalVectorStore(this IServiceCollection services, Func<IServiceProvider, string> pathProvider,
        Func<IServiceProvider, DeepRetrievalVectorStoreOptions?>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        => AddKeyedDeepRetrievalVectorStore(services, serviceKey: null, pathProvider, optionsProvider, lifetime);

    /// <summary>Registers a keyed <see cref="DeepRetrievalVectorStore"/> whose folder and options come from the container.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The service key, or null for an unkeyed registration.</param>
    /// <param name="pathProvider">Returns the root folder.</param>
    /// <param name="optionsProvider">Returns the options, or null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKeyedDeepRetrievalVectorStore(this IServiceCollection services, object? serviceKey, Func<IServiceProvider, string> pathProvider,
        Func<IServiceProvider, DeepRetrievalVectorStoreOptions?>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(pathProvider);
        services.Add(new ServiceDescriptor(typeof(DeepRetrievalVectorStore), serviceKey, (sp, _) =>
        {
            var options = new DeepRetrievalVectorStoreOptions(optionsProvider?.Invoke(sp));
            options.EmbeddingGenerator ??= sp.GetService<IEmbeddingGenerator>();
            return new DeepRetrievalVectorStore(pathProvider(sp), options);
        }, lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStore), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalVectorStore>(key), lifetime));
        return services;
    }

    /// <summary>
    /// Registers a <see cref="DeepRetrievalCollection{TKey, TRecord}"/> as <see cref="VectorStoreCollection{TKey, TRecord}"/>,
    /// <see cref="IVectorSearchable{TRecord}"/> and <see cref="IKeywordHybridSearchable{TRecord}"/>.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TRecord">The record type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="path">The root folder (the collection lives in a sub-folder).</param>
    /// <param name="options">Definition, embedding generator and storage settings; null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    [RequiresDynamicCode(DynamicCodeMessage)]
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    public static IServiceCollection AddDeepRetrievalCollection<TKey, TRecord>(this IServiceCollection services, string name, string path,
        DeepRetrievalCollectionOptions? options = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
        => AddKeyedDeepRetrievalCollection<TKey, TRecord>(services, serviceKey: null, name, path, options, lifetime);

    /// <summary>Registers a keyed <see cref="DeepRetrievalCollection{TKey, TRecord}"/> (see the unkeyed overload).</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TRecord">The record type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The service key, or null for an unkeyed registration.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="path">The root folder.</param>
    /// <param name="options">Definition, embedding generator and storage settings; null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    [RequiresDynamicCode(DynamicCodeMessage)]
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    public static IServiceCollection AddKeyedDeepRetrievalCollection<TKey, TRecord>(this IServiceCollection services, object? serviceKey, string name, string path,
        DeepRetrievalCollectionOptions? options = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return AddKeyedDeepRetrievalCollection<TKey, TRecord>(services, serviceKey, name, _ => path, _ => options, lifetime);
    }

    /// <summary>Registers a <see cref="DeepRetrievalCollection{TKey, TRecord}"/> whose folder and options come from the container.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TRecord">The record type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="pathProvider">Returns the root folder.</param>
    /// <param name="optionsProvider">Returns the options, or null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    [RequiresDynamicCode(DynamicCodeMessage)]
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    public static IServiceCollection AddDeepRetrievalCollection<TKey, TRecord>(this IServiceCollection services, string name, Func<IServiceProvider, string> pathProvider,
        Func<IServiceProvider, DeepRetrievalCollectionOptions?>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
        => AddKeyedDeepRetrievalCollection<TKey, TRecord>(services, serviceKey: null, name, pathProvider, optionsProvider, lifetime);

    /// <summary>Registers a keyed <see cref="DeepRetrievalCollection{TKey, TRecord}"/> whose folder and options come from the container.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TRecord">The record type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The service key, or null for an unkeyed registration.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="pathProvider">Returns the root folder.</param>
    /// <param name="optionsProvider">Returns the options, or null for defaults.</param>
    /// <param name="lifetime">The lifetime; singleton by default.</param>
    /// <returns>The services.</returns>
    [RequiresDynamicCode(DynamicCodeMessage)]
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    public static IServiceCollection AddKeyedDeepRetrievalCollection<TKey, TRecord>(this IServiceCollection services, object? serviceKey, string name,
        Func<IServiceProvider, string> pathProvider, Func<IServiceProvider, DeepRetrievalCollectionOptions?>? optionsProvider = null,
        ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(pathProvider);
        services.Add(new ServiceDescriptor(typeof(DeepRetrievalCollection<TKey, TRecord>), serviceKey, (sp, _) =>
        {
            var options = new DeepRetrievalCollectionOptions(optionsProvider?.Invoke(sp));
            options.EmbeddingGenerator ??= sp.GetService<IEmbeddingGenerator>();
            return new DeepRetrievalCollection<TKey, TRecord>(pathProvider(sp), name, options);
        }, lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStoreCollection<TKey, TRecord>), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalCollection<TKey, TRecord>>(key), lifetime));
        services.Add(new ServiceDescriptor(typeof(IVectorSearchable<TRecord>), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalCollection<TKey, TRecord>>(key), lifetime));
        services.Add(new ServiceDescriptor(typeof(IKeywordHybridSearchable<TRecord>), serviceKey,
            static (sp, key) => sp.GetRequiredKeyedService<DeepRetrievalCollection<TKey, TRecord>>(key), lifetime));
        return services;
    }
}
