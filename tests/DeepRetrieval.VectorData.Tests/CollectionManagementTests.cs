using DeepRetrieval.VectorData.Persistence;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>The conformance suite's collection management cases, plus the store's own conventions for missing and mismatched collections.</summary>
public sealed class CollectionManagementTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly DeepRetrievalVectorStore _store;

    public CollectionManagementTests() => _store = new DeepRetrievalVectorStore(_folder.Path);

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task Collection_EnsureExists_Delete()
    {
        using var collection = _store.GetCollection<int, Item>("managed");

        (await collection.CollectionExistsAsync()).Should().BeFalse();
        await collection.EnsureCollectionExistsAsync();
        await collection.EnsureCollectionExistsAsync();
        (await collection.CollectionExistsAsync()).Should().BeTrue();
        (await _store.CollectionExistsAsync("managed")).Should().BeTrue();
        await collection.EnsureCollectionDeletedAsync();
        (await collection.CollectionExistsAsync()).Should().BeFalse();
        await _store.EnsureCollectionDeletedAsync("managed"); // deleting a missing collection does not throw
    }

    [Fact]
    public async Task Store_ListsCollections_WithAnyName()
    {
        string[] names = ["plain", "with space", "ünïcödé/../x", "dots.and_underscores"];
        foreach (string name in names)
        {
            using var c = _store.GetCollection<int, Item>(name);
            await c.EnsureCollectionExistsAsync();
        }

        (await _store.ListCollectionNamesAsync().ToListAsync()).Should().BeEquivalentTo(names);
        Directory.GetDirectories(_folder.Path).Should().HaveCount(names.Length, "every collection is one folder under the root");
        FolderRecordEngineProvider.TryDecodeName(FolderRecordEngineProvider.EncodeName("a/b"), out string? decoded).Should().BeTrue();
        decoded.Should().Be("a/b");
    }

    [Fact]
    public async Task StoreDelete_MakesOtherHandlesSeeAMissingCollection_UntilItIsCreatedAgain()
    {
        using var writer = _store.GetCollection<int, Item>("shared");
        using var reader = _store.GetCollection<int, Item>("shared");
        await writer.EnsureCollectionExistsAsync();
        await writer.UpsertAsync(new Item { Key = 1, Vector = new([1, 2, 3]) });
        (await reader.GetAsync(1)).Should().NotBeNull("handles to one collection share its engine");

        await _store.EnsureCollectionDeletedAsync("shared");

        Func<Task> read = () => reader.GetAsync(1);
        (await read.Should().ThrowAsync<VectorStoreException>()).Which.CollectionName.Should().Be("shared");
        await writer.EnsureCollectionExistsAsync();
        (await reader.GetAsync(1)).Should().BeNull("the collection was created again, empty");
    }

    [Fact]
    public async Task OperationsOnAMissingCollection_ThrowVectorStoreException()
    {
        using var collection = _store.GetCollection<int, Item>("missing");

        Func<Task> get = () => collection.GetAsync(1);
        Func<Task> upsert = () => collection.UpsertAsync(new Item { Key = 1, Vector = new([1, 2, 3]) });
        Func<Task> search = () => collection.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 1).ToListAsync().AsTask();

        (await get.Should().ThrowAsync<VectorStoreException>()).Which.Message.Should().Contain("does not exist");
        await upsert.Should().ThrowAsync<VectorStoreException>();
        await search.Should().ThrowAsync<VectorStoreException>();
    }

    [Fact]
    public async Task ADifferentRecordDefinition_ForAnExistingCollection_IsRefused()
    {
        using (var collection = _store.GetCollection<int, Item>("shape"))
            await collection.EnsureCollectionExistsAsync();

        using var other = _store.GetCollection<int, SearchRecord<int>>("shape", Definitions.Search<int>(3));
        Func<Task> ensure = () => other.EnsureCollectionExistsAsync();
        Func<Task> use = () => other.GetAsync(1);

        (await ensure.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("different record definition");
        await use.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public void GetCollection_WithADictionary_PointsToGetDynamicCollection()
    {
        Action act = () => _store.GetCollection<object, Dictionary<string, object?>>("x");
        act.Should().Throw<ArgumentException>().WithMessage("*GetDynamicCollection*");
    }
}
