using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>The conformance suite's BasicModelTests, written for this store: get, upsert, delete and search of a typed record.</summary>
public sealed class BasicModelTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private DeepRetrievalVectorStore _store = null!;
    private DeepRetrievalCollection<int, Item> _collection = null!;

    private static readonly Item[] Seed =
    [
        new() { Key = 1, Number = 1, Text = "foo", Vector = new([1, 2, 3]) },
        new() { Key = 2, Number = 2, Text = "bar", Vector = new([1, 2, 4]) },
        new() { Key = 3, Number = 3, Text = "foo", Vector = new([1, 2, 5]) },
    ];

    public async Task InitializeAsync()
    {
        _store = new DeepRetrievalVectorStore(_folder.Path);
        _collection = _store.GetCollection<int, Item>("items");
        await _collection.EnsureCollectionExistsAsync();
        await _collection.UpsertAsync(Seed.Select(Copy));
    }

    public Task DisposeAsync()
    {
        _collection.Dispose();
        _store.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private static Item Copy(Item i) => new() { Key = i.Key, Number = i.Number, Text = i.Text, Vector = i.Vector.ToArray() };

    private static void AssertSame(Item expected, Item? actual, bool includeVectors)
    {
        actual.Should().NotBeNull();
        actual!.Key.Should().Be(expected.Key);
        actual.Text.Should().Be(expected.Text);
        actual.Number.Should().Be(expected.Number);
        if (includeVectors) actual.Vector.ToArray().Should().Equal(expected.Vector.ToArray());
        else actual.Vector.Length.Should().Be(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_ReturnsTheRecord_WithVectorsOnlyWhenAsked(bool includeVectors)
    {
        AssertSame(Seed[0], await _collection.GetAsync(1, new RecordRetrievalOptions { IncludeVectors = includeVectors }), includeVectors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_Batch_ReturnsOnlyTheExistingRecords(bool includeVectors)
    {
        var received = await _collection.GetAsync([1, 2, 99], new RecordRetrievalOptions { IncludeVectors = includeVectors }).ToListAsync();

        received.Should().HaveCount(2);
        AssertSame(Seed[0], received.Single(r => r.Key == 1), includeVectors);
        AssertSame(Seed[1], received.Single(r => r.Key == 2), includeVectors);
    }

    [Fact]
    public async Task GetAsync_ReturnsNull_ForAMissingKey()
    {
        (await _collection.GetAsync(42)).Should().BeNull();
        (await _collection.GetAsync(Array.Empty<int>()).ToListAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task GetAsync_Throws_ForNullKeysAndRecords()
    {
        Func<Task> keys = async () => await _collection.GetAsync(keys: null!).ToListAsync();
        (await keys.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("keys");
        Func<Task> upsert = () => _collection.UpsertAsync(records: null!);
        (await upsert.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("records");
        Func<Task> delete = () => _collection.DeleteAsync(keys: null!);
        (await delete.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("keys");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_WithFilter_ReturnsTheMatches(bool includeVectors)
    {
        var results = await _collection.GetAsync(r => r.Number == 1, top: 2, new() { IncludeVectors = includeVectors }).ToListAsync();

        results.Should().ContainSingle();
        AssertSame(Seed[0], results[0], includeVectors);
        (await _collection.GetAsync(r => true, top: 100).CountAsync()).Should().Be(3);
    }

    [Fact]
    public async Task GetAsync_WithOrderBy_SortsAndPages()
    {
        var ascending = await _collection.GetAsync(r => r.Number > 1, top: 2, new() { OrderBy = o => o.Ascending(r => r.Number) }).Select(r => r.Number).ToListAsync();
        var descending = await _collection.GetAsync(r => r.Number > 1, top: 2, new() { OrderBy = o => o.Descending(r => r.Number) }).Select(r => r.Number).ToListAsync();
        var skipped = await _collection.GetAsync(r => r.Number > 1, top: 2, new() { OrderBy = o => o.Ascending(r => r.Number), Skip = 1 }).Select(r => r.Number).ToListAsync();
        // Text descending ("foo", "foo", "bar"), then Number: ascending gives 1, 3; descending gives 3, 1.
        var byTextThenNumber = await _collection.GetAsync(r => true, top: 2, new() { OrderBy = o => o.Descending(r => r.Text).Ascending(r => r.Number) }).Select(r => r.Number).ToListAsync();
        var byTextThenNumberDescending = await _collection.GetAsync(r => true, top: 2, new() { OrderBy = o => o.Descending(r => r.Text).Descending(r => r.Number) }).Select(r => r.Number).ToListAsync();

        ascending.Should().Equal(2, 3);
        descending.Should().Equal(3, 2);
        skipped.Should().Equal(3);
        byTextThenNumber.Should().Equal(1, 3);
        byTextThenNumberDescending.Should().Equal(3, 1);
    }

    [Fact]
    public async Task UpsertAsync_InsertsAndUpdates_InOneBatch()
    {
        Item[] batch =
        [
            new() { Key = 10, Number = 101, Text = "new", Vector = new([10, 0, 1]) },
            new() { Key = 1, Number = 102, Text = "updated", Vector = new([10, 0, 2]) },
        ];

        await _collection.UpsertAsync(batch);

        var received = await _collection.GetAsync([10, 1], new() { IncludeVectors = true }).OrderBy(r => r.Number).ToListAsync();
        received.Should().HaveCount(2);
        AssertSame(batch[0], received[0], includeVectors: true);
        AssertSame(batch[1], received[1], includeVectors: true);
        (await _collection.GetAsync(r => true, top: 100).CountAsync()).Should().Be(4);
    }

    [Fact]
    public async Task UpsertAsync_KeepsTheLastRecord_WhenAKeyRepeatsInTheBatch()
    {
        await _collection.UpsertAsync([
            new Item { Key = 20, Number = 1, Text = "first", Vector = new([1, 0, 0]) },
            new Item { Key = 20, Number = 2, Text = "second", Vector = new([0, 1, 0]) },
        ]);

        var stored = await _collection.GetAsync(20, new() { IncludeVectors = true });
        stored!.Text.Should().Be("second");
        stored.Vector.ToArray().Should().Equal(0, 1, 0);
    }

    [Fact]
    public async Task UpsertAsync_CopiesValues_SoLaterChangesToTheRecordDoNotReachTheStore()
    {
        float[] vector = [5, 5, 5];
        var item = new Item { Key = 30, Number = 7, Text = "mine", Vector = vector };
        await _collection.UpsertAsync(item);

        vector[0] = -1;
        var read = await _collection.GetAsync(30, new() { IncludeVectors = true });
        read!.Vector.ToArray().Should().Equal(5, 5, 5);
    }

    [Fact]
    public async Task UpsertAndDelete_DoNothing_ForEmptyBatches()
    {
        await _collection.UpsertAsync([]);
        await _collection.DeleteAsync([]);
        await _collection.DeleteAsync(12345);

        (await _collection.GetAsync(r => true, top: 100).CountAsync()).Should().Be(3);
    }

    [Fact]
    public async Task DeleteAsync_RemovesSingleAndBatches()
    {
        await _collection.DeleteAsync(1);
        (await _collection.GetAsync(1)).Should().BeNull();

        await _collection.DeleteAsync([2, 3]);
        (await _collection.GetAsync([2, 3]).ToListAsync()).Should().BeEmpty();
        (await _collection.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 5).ToListAsync()).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SearchAsync_FindsTheRecordItself_First(bool includeVectors)
    {
        var result = await _collection.SearchAsync(Seed[0].Vector, top: 1, new() { IncludeVectors = includeVectors }).SingleAsync();

        AssertSame(Seed[0], result.Record, includeVectors);
        result.Score.Should().BeApproximately(1.0, 1e-6);
    }

    [Fact]
    public async Task SearchAsync_WithSkip_ReturnsTheNextNeighbours_WithCosineScores()
    {
        var results = await _collection.SearchAsync(Seed[0].Vector, top: 5, new() { Skip = 1 }).ToListAsync();

        // cos([1,2,3],[1,2,4]) = 17/√(14·21); cos([1,2,3],[1,2,5]) = 20/√(14·30).
        results.Select(r => r.Record.Key).Should().Equal(2, 3);
        results[0].Score.Should().BeApproximately(17 / Math.Sqrt(14 * 21), 1e-6);
        results[1].Score.Should().BeApproximately(20 / Math.Sqrt(14 * 30), 1e-6);
    }

    [Fact]
    public async Task SearchAsync_WithFilter_SearchesOnlyTheMatches()
    {
        var result = await _collection.SearchAsync(Seed[0].Vector, top: 1, new() { Filter = r => r.Number == 2 }).SingleAsync();

        AssertSame(Seed[1], result.Record, includeVectors: false);
    }

    [Fact]
    public async Task Metadata_NamesTheSystemAndCollection()
    {
        var metadata = (VectorStoreCollectionMetadata?)_collection.GetService(typeof(VectorStoreCollectionMetadata));
        var storeMetadata = (VectorStoreMetadata?)_store.GetService(typeof(VectorStoreMetadata));

        metadata!.VectorStoreSystemName.Should().Be("deepretrieval");
        metadata.CollectionName.Should().Be("items");
        storeMetadata!.VectorStoreName.Should().Be(Path.GetFullPath(_folder.Path));
        (await _store.CollectionExistsAsync("items")).Should().BeTrue();
    }
}
