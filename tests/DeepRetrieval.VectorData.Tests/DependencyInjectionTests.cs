using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>The conformance suite's dependency-injection cases: lifetimes, keys, argument checks, the container's embedding generator.</summary>
public sealed class DependencyInjectionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<ServiceLifetime, object?> LifetimesAndKeys()
    {
        var data = new TheoryData<ServiceLifetime, object?>();
        foreach (var lifetime in new[] { ServiceLifetime.Singleton, ServiceLifetime.Scoped, ServiceLifetime.Transient })
        {
            data.Add(lifetime, null);
            data.Add(lifetime, "key");
            data.Add(lifetime, 8);
        }
        return data;
    }

    private static T Resolve<T>(IServiceProvider provider, object? key) where T : notnull =>
        key is null ? provider.GetRequiredService<T>() : provider.GetRequiredKeyedService<T>(key);

    private static void Verify<T>(IServiceProvider root, ServiceLifetime lifetime, object? key) where T : class
    {
        using var scope = root.CreateScope();
        T a = Resolve<T>(scope.ServiceProvider, key), b = Resolve<T>(scope.ServiceProvider, key);
        if (lifetime == ServiceLifetime.Transient) a.Should().NotBeSameAs(b);
        else a.Should().BeSameAs(b);
    }

    [Theory]
    [MemberData(nameof(LifetimesAndKeys))]
    public void TheStore_IsRegistered_AsItselfAndAsVectorStore(ServiceLifetime lifetime, object? key)
    {
        var services = new ServiceCollection();
        if (key is null) services.AddDeepRetrievalVectorStore(_folder.Path, lifetime: lifetime);
        else services.AddKeyedDeepRetrievalVectorStore(key, _folder.Path, lifetime: lifetime);
        using var provider = services.BuildServiceProvider();

        Verify<DeepRetrievalVectorStore>(provider, lifetime, key);
        Verify<VectorStore>(provider, lifetime, key);
    }

    [Theory]
    [MemberData(nameof(LifetimesAndKeys))]
    public void Collections_AreRegistered_UnderEveryAbstraction(ServiceLifetime lifetime, object? key)
    {
        var services = new ServiceCollection();
        if (key is null) services.AddDeepRetrievalCollection<int, Item>("items", _folder.Path, lifetime: lifetime);
        else services.AddKeyedDeepRetrievalCollection<int, Item>(key, "items", _folder.Path, lifetime: lifetime);
        using var provider = services.BuildServiceProvider();

        Verify<DeepRetrievalCollection<int, Item>>(provider, lifetime, key);
        Verify<VectorStoreCollection<int, Item>>(provider, lifetime, key);
        Verify<IVectorSearchable<Item>>(provider, lifetime, key);
        Verify<IKeywordHybridSearchable<Item>>(provider, lifetime, key);
    }

    [Fact]
    public void Arguments_AreChecked()
    {
        var services = new ServiceCollection();
        Action nullServices = () => DeepRetrievalServiceCollectionExtensions.AddDeepRetrievalVectorStore(null!, _folder.Path);
        Action nullName = () => services.AddDeepRetrievalCollection<int, Item>(null!, _folder.Path);
        Action emptyName = () => services.AddKeyedDeepRetrievalCollection<int, Item>("key", "", _folder.Path);
        Action emptyPath = () => services.AddDeepRetrievalVectorStore("");

        nullServices.Should().Throw<ArgumentNullException>();
        nullName.Should().Throw<ArgumentNullException>();
        emptyName.Should().Throw<ArgumentException>();
        emptyPath.Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task TheContainersEmbeddingGenerator_IsResolvedLazily_AndUsed()
    {
        bool resolved = false;
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator>(_ =>
        {
            resolved = true;
            return new ConstantGenerator();
        });
        services.AddDeepRetrievalVectorStore(sp => _folder.Path);
        resolved.Should().BeFalse();
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<VectorStore>();
        resolved.Should().BeTrue();
        var definition = new VectorStoreCollectionDefinition
        {
            Properties = [new VectorStoreKeyProperty("Key", typeof(int)), new VectorStoreVectorProperty("Text", typeof(string), 2)],
        };
        using var collection = store.GetDynamicCollection("generated", definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new Dictionary<string, object?> { ["Key"] = 1, ["Text"] = "anything" });
        (await collection.SearchAsync("query", top: 1).SingleAsync()).Record["Key"].Should().Be(1);
    }

    private sealed class ConstantGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(_ => new Embedding<float>(new float[] { 1, 0 }))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
