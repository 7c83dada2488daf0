using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>Bad input gets a clear exception and a failed batch writes nothing.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private DeepRetrievalVectorStore _store = null!;
    private DeepRetrievalCollection<int, Item> _collection = null!;

    public async Task InitializeAsync()
    {
        _store = new DeepRetrievalVectorStore(_folder.Path);
        _collection = _store.GetCollection<int, Item>("bad");
        await _collection.EnsureCollectionExistsAsync();
        await _collection.UpsertAsync(new Item { Key = 1, Text = "kept", Vector = new([1, 2, 3]) });
    }

    public Task DisposeAsync()
    {
        _collection.Dispose();
        _store.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private async Task<int> CountAsync() => await _collection.GetAsync(r => true, top: 100).CountAsync();

    [Fact]
    public async Task WrongDimension_InABatch_WritesNothing_AndNamesTheRecord()
    {
        Item[] batch =
        [
            new() { Key = 2, Text = "good", Vector = new([1, 1, 1]) },
            new() { Key = 1, Text = "would overwrite", Vector = new([1, 1, 1]) },
            new() { Key = 3, Text = "bad", Vector = new([1, 1, 1, 1]) },
        ];

        Func<Task> act = () => _collection.UpsertAsync(batch);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("Record 3").And.Contain("4 dimensions").And.Contain("has 3");
        (await CountAsync()).Should().Be(1);
        (await _collection.GetAsync(1))!.Text.Should().Be("kept");
    }

    [Fact]
    public async Task NonFiniteComponents_AreRejected()
    {
        Func<Task> nan = () => _collection.UpsertAsync(new Item { Key = 5, Vector = new([1, float.NaN, 3]) });
        Func<Task> infinite = () => _collection.SearchAsync(new ReadOnlyMemory<float>([1, float.PositiveInfinity, 3]), top: 1).ToListAsync().AsTask();

        (await nan.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("NaN");
        await infinite.Should().ThrowAsync<ArgumentException>();
        (await CountAsync()).Should().Be(1);
    }

    [Fact]
    public async Task SearchWithTheWrongDimension_Throws()
    {
        Func<Task> act = () => _collection.SearchAsync(new ReadOnlyMemory<float>([1, 2]), top: 1).ToListAsync().AsTask();
        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("2 dimensions");
    }

    [Fact]
    public async Task ArgumentChecks_FollowTheAbstraction()
    {
        Func<Task> nullRecord = () => _collection.UpsertAsync((Item)null!);
        Func<Task> zeroTop = () => _collection.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 0).ToListAsync().AsTask();
        Func<Task> nullFilter = () => _collection.GetAsync(filter: null!, top: 1).ToListAsync().AsTask();
        Func<Task> nullNumberInBatch = () => _collection.UpsertAsync([new Item { Key = 9, Vector = new([1, 2, 3]) }, null!]);

        await nullRecord.Should().ThrowAsync<ArgumentNullException>();
        await zeroTop.Should().ThrowAsync<ArgumentOutOfRangeException>();
        await nullFilter.Should().ThrowAsync<ArgumentNullException>();
        await nullNumberInBatch.Should().ThrowAsync<ArgumentException>();
        (await CountAsync()).Should().Be(1);
    }

    [Fact]
    public async Task SearchingWithAStringWithoutAGenerator_ThrowsTheAbstractionsMessage()
    {
        Func<Task> act = () => _collection.SearchAsync("text", top: 1).ToListAsync().AsTask();
        (await act.Should().ThrowAsync<NotSupportedException>()).Which.Message.Should().StartWith("A value of type 'string' was passed to 'SearchAsync'");
    }

    [Fact]
    public async Task DynamicRecords_WithWronglyTypedValues_AreRejected()
    {
        using var dynamic = _store.GetDynamicCollection("dyn", Definitions.Search<int>(3));
        await dynamic.EnsureCollectionExistsAsync();

        Func<Task> wrongValue = () => dynamic.UpsertAsync(new Dictionary<string, object?> { ["Key"] = 1, ["Int"] = "eight", ["Vector"] = new ReadOnlyMemory<float>([1, 2, 3]) });
        Func<Task> wrongKey = () => dynamic.UpsertAsync(new Dictionary<string, object?> { ["Key"] = 1L, ["Int"] = 8, ["Vector"] = new ReadOnlyMemory<float>([1, 2, 3]) });
        Func<Task> missingInt = () => dynamic.UpsertAsync(new Dictionary<string, object?> { ["Key"] = 1, ["Vector"] = new ReadOnlyMemory<float>([1, 2, 3]) });

        await wrongValue.Should().ThrowAsync<InvalidCastException>();
        (await wrongKey.Should().ThrowAsync<Exception>()).Which.Should().Match<Exception>(e => e is ArgumentException || e is InvalidCastException);
        (await missingInt.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("not nullable");
        (await dynamic.GetAsync(r => true, top: 10).CountAsync()).Should().Be(0);
    }

    [Fact]
    public async Task RecordsWithoutAVector_AreStored_ButNotFoundByVectorSearch()
    {
        using var filters = _store.GetCollection<int, FilterRecord>("novec", Definitions.Filter());
        await filters.EnsureCollectionExistsAsync();
        await filters.UpsertAsync([new FilterRecord { Key = 1, Vector = null }, new FilterRecord { Key = 2, Vector = new ReadOnlyMemory<float>([1, 0, 0]) }]);

        (await filters.GetAsync(1)).Should().NotBeNull();
        (await filters.SearchAsync(new ReadOnlyMemory<float>([1, 0, 0]), top: 5).Select(r => r.Record.Key).ToListAsync()).Should().Equal(2);
    }
}
