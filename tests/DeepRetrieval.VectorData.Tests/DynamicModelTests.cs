namespace DeepRetrieval.VectorData.Tests;

/// <summary>The conformance suite's dynamic-model cases: dictionaries in, dictionaries out, vectors present only when asked.</summary>
public sealed class DynamicModelTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Dictionaries_RoundTrip_WithVectorsOnlyWhenAsked_AndSearch()
    {
        using var store = new DeepRetrievalVectorStore(_folder.Path);
        using var collection = store.GetDynamicCollection("dyn", Definitions.Search<string>(3));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([
            new Dictionary<string, object?> { ["Key"] = "a", ["Int"] = 1, ["Vector"] = new ReadOnlyMemory<float>([1, 2, 3]) },
            new Dictionary<string, object?> { ["Key"] = "b", ["Int"] = 2, ["Vector"] = new ReadOnlyMemory<float>([1, 2, 4]) },
        ]);

        var without = await collection.GetAsync("a");
        var with = await collection.GetAsync("a", new() { IncludeVectors = true });
        var skipped = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 1, new() { Skip = 1 }).SingleAsync();
        var ordered = await collection.GetAsync(r => (int)r["Int"]! > 0, top: 5, new() { OrderBy = o => o.Descending(r => r["Int"]) }).Select(r => r["Key"]).ToListAsync();

        without!.Should().NotContainKey("Vector");
        without["Int"].Should().Be(1);
        ((ReadOnlyMemory<float>)with!["Vector"]!).ToArray().Should().Equal(1, 2, 3);
        skipped.Record["Key"].Should().Be("b");
        ordered.Should().Equal("b", "a");
        await collection.DeleteAsync("a");
        (await collection.GetAsync("a")).Should().BeNull();
    }
}
