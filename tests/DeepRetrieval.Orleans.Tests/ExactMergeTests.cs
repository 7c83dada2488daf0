using System.Linq.Expressions;
using DeepRetrieval.VectorData;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>
/// The cluster's answer equals one exact index over all records: the same collection is filled in the in-process store
/// (one table, one Flat index) and in the cluster (3 shards, one replica each), keys inserted in increasing order, and every
/// search — with ties, filters, skip and top, under each distance function — must return the same keys with the same scores
/// in the same order.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class ExactMergeTests(InProcessCluster cluster) : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deepretrieval-reference-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    public static TheoryData<string> DistanceFunctions => new()
    {
        DistanceFunction.CosineSimilarity,
        DistanceFunction.EuclideanSquaredDistance,
        DistanceFunction.DotProductSimilarity,
        DistanceFunction.NegativeDotProductSimilarity,
    };

    [Theory]
    [MemberData(nameof(DistanceFunctions))]
    public async Task Search_AcrossShards_EqualsOneExactIndexOverTheUnion_WithTiesFiltersSkipAndTop(string distanceFunction)
    {
        var (reference, distributed) = await FillBothAsync(distanceFunction, $"merge-{distanceFunction}", 400);
        var random = new Random(7);
        Expression<Func<Item, bool>>?[] filters =
        [
            null,
            i => i.Category == "a",
            i => i.Price < 30 || i.Tags.Contains("sale"),
            i => i.Category != "b" && i.Price >= 50,
            i => i.Price == 1000, // matches nothing
        ];
        int compared = 0, tiedAtCut = 0;
        for (int q = 0; q < 12; q++)
        {
            float[] query = Item.Query(random);
            foreach (var filter in filters)
            foreach (var (top, skip) in new[] { (1, 0), (5, 0), (17, 3), (50, 40), (500, 0) })
            {
                var options = new VectorSearchOptions<Item> { Filter = filter, Skip = skip };
                var expected = await reference.SearchAsync(query, top, options).Select(h => (h.Record.Id, h.Score)).ToListAsync();
                var actual = await distributed.SearchAsync(query, top, options).Select(h => (h.Record.Id, h.Score)).ToListAsync();
                actual.Should().Equal(expected, $"query {q}, filter {filter}, top {top}, skip {skip}");
                compared++;
                if (expected.Count >= 2 && expected[^1].Score == expected[^2].Score) tiedAtCut++;
            }
        }
        compared.Should().Be(12 * 5 * 5);
        tiedAtCut.Should().BeGreaterThan(20, "the vectors repeat, so many result lists end inside a run of equal scores");
    }

    [Fact]
    public async Task Search_WithScoreThresholdAndVectors_EqualsOneExactIndex()
    {
        var (reference, distributed) = await FillBothAsync(DistanceFunction.CosineSimilarity, "merge-threshold", 200);
        float[] query = [1, 1, 0, 2, 0, 1, 1, 0];
        var options = new VectorSearchOptions<Item> { ScoreThreshold = 0.8, IncludeVectors = true };
        var expected = await reference.SearchAsync(query, 60, options).ToListAsync();
        var actual = await distributed.SearchAsync(query, 60, options).ToListAsync();
        actual.Select(h => (h.Record.Id, h.Score)).Should().Equal(expected.Select(h => (h.Record.Id, h.Score)));
        actual.Should().OnlyContain(h => h.Score >= 0.8);
        actual.Select(h => h.Record.Embedding.ToArray()).Should().BeEquivalentTo(expected.Select(h => h.Record.Embedding.ToArray()), o => o.WithStrictOrdering());
    }

    [Fact]
    public async Task FilteredGet_OrderedAndPaged_EqualsTheInProcessStore_WhenKeysBreakTies()
    {
        var (reference, distributed) = await FillBothAsync(DistanceFunction.CosineSimilarity, "merge-query", 300);
        var options = new FilteredRecordRetrievalOptions<Item> { Skip = 7, OrderBy = o => o.Descending(i => i.Price).Ascending(i => i.Id) };
        var expected = await reference.GetAsync(i => i.Category != "c", 40, options).Select(i => i.Id).ToListAsync();
        var actual = await distributed.GetAsync(i => i.Category != "c", 40, options).Select(i => i.Id).ToListAsync();
        actual.Should().Equal(expected);
        actual.Should().HaveCount(40);
    }

    [Fact]
    public async Task GetByKeys_ReturnsRecordsInRequestOrder_FromEveryShard()
    {
        var (_, distributed) = await FillBothAsync(DistanceFunction.CosineSimilarity, "merge-keys", 60);
        int[] keys = [59, 3, 1000, 17, 3, 42, 0];
        var records = await distributed.GetAsync(keys, new RecordRetrievalOptions { IncludeVectors = true }).ToListAsync();
        records.Select(r => r.Id).Should().Equal(59, 3, 17, 3, 42, 0);
        var generated = Item.Generate(60, seed: 11);
        records[0].Embedding.ToArray().Should().Equal(generated[59].Embedding.ToArray());
        records[0].Tags.Should().Equal(generated[59].Tags);
    }

    private async Task<(VectorStoreCollection<int, Item> Reference, VectorStoreCollection<int, Item> Distributed)> FillBothAsync(
        string distanceFunction, string name, int count)
    {
        var definition = Item.Definition(distanceFunction);
        var local = new DeepRetrievalVectorStore(_folder).GetCollection<int, Item>(name, definition);
        var remote = cluster.Store($"store-{name}").GetCollection<int, Item>(name, definition);
        await local.EnsureCollectionExistsAsync();
        await remote.EnsureCollectionExistsAsync();
        var items = Item.Generate(count, seed: 11);
        foreach (var batch in items.Chunk(37))
        {
            await local.UpsertAsync(batch);
            await remote.UpsertAsync(batch);
        }
        return (local, remote);
    }
}
