using System.Collections.Concurrent;
using DeepRetrieval.Orleans.Grains;
using DeepRetrieval.Orleans.Routing;
using DeepRetrieval.VectorData;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>
/// Splitting a shard online: the upper half of its hash range moves to a new shard while writes and reads go on; afterwards
/// every acknowledged record is found exactly once, searches still equal one exact index over all records, and a handle
/// opened before the split routes with the new map by itself.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class SplitTests(InProcessCluster cluster) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deepretrieval-split-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task SplittingAShard_MovesTheUpperHalfOfItsRange_AndLosesNothingUnderConcurrentWrites()
    {
        var provider = new OrleansRecordEngineProvider(cluster.Cluster.Client, new DeepRetrievalOrleansOptions { StoreName = "store-split", ShardCount = 2, ReplicaCount = 1 });
        var definition = Item.Definition(DistanceFunction.EuclideanSquaredDistance);
        var items = new DeepRetrievalVectorStore(provider).GetCollection<int, Item>("items", definition);
        await items.EnsureCollectionExistsAsync();
        await items.UpsertAsync(Item.Generate(400, seed: 21));
        // A second handle routes with the map it read before the split.
        var stale = new DeepRetrievalVectorStore(provider).GetCollection<int, Item>("items", definition);
        (await stale.GetAsync(1)).Should().NotBeNull();

        var acknowledged = new ConcurrentBag<int>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (int id = 400; !stop.IsCancellationRequested; id += 5)
            {
                await items.UpsertAsync(Item.Generate(5, seed: id, firstId: id));
                for (int k = id; k < id + 5; k++) acknowledged.Add(k);
            }
        });
        var reader = Task.Run(async () =>
        {
            int reads = 0;
            while (!stop.IsCancellationRequested)
            {
                (await stale.SearchAsync(new float[] { 1, 1, 1, 1, 0, 0, 0, 0 }, 5).CountAsync()).Should().Be(5);
                reads++;
            }
            return reads;
        });
        await Task.Delay(300);
        int child = await provider.SplitShardAsync("items", 1);
        await Task.Delay(300);
        stop.Cancel();
        await writer;
        (await reader).Should().BeGreaterThan(0);

        child.Should().Be(2);
        var shards = (await provider.GetShardsAsync("items"))!;
        shards.Should().Equal((0, 0UL), (1, 1UL << 63), (2, 3UL << 62));
        // Each shard holds exactly the keys of its range, and together all of them.
        var catalog = cluster.Cluster.Client.GetGrain<IVectorCatalogGrain>("store-split");
        CollectionDescriptor collection = (await catalog.GetAsync("items"))!;
        collection.MapVersion.Should().Be(1);
        int expected = 400 + acknowledged.Count;
        var counts = new Dictionary<int, int>();
        foreach (int shard in collection.ShardIds)
        {
            var replica = cluster.Cluster.Client.GetGrain<IVectorReplicaGrain>(collection.ReplicaKey(shard, 1));
            await replica.CatchUpAsync();
            ShardStatus primary = await cluster.Cluster.Client.GetGrain<IVectorShardGrain>(collection.ShardKey(shard)).GetStatusAsync();
            (await replica.GetStatusAsync()).Count.Should().Be(primary.Count);
            counts[shard] = primary.Count;
        }
        counts.Values.Sum().Should().Be(expected, "every record is on exactly one shard");
        var map = ShardMap.Of(collection);
        int[] all = Enumerable.Range(0, 400).Concat(acknowledged).ToArray();
        all.GroupBy(k => map.ShardOfKey(k)).ToDictionary(g => g.Key, g => g.Count()).Should().Equal(counts);
        (await stale.GetAsync(all).CountAsync()).Should().Be(expected, "the handle opened before the split reads through the new map");

        // Searches still equal one exact index over everything.
        var reference = new DeepRetrievalVectorStore(_folder).GetCollection<int, Item>("items", definition);
        await reference.EnsureCollectionExistsAsync();
        await reference.UpsertAsync(await items.GetAsync(all.Order(), new RecordRetrievalOptions { IncludeVectors = true }).ToListAsync());
        var random = new Random(5);
        for (int q = 0; q < 10; q++)
        {
            float[] query = Item.Query(random);
            var options = new VectorSearchOptions<Item> { Filter = i => i.Price < 60, Skip = 2 };
            var want = await reference.SearchAsync(query, 15, options).Select(h => (h.Record.Id, h.Score)).ToListAsync();
            (await items.SearchAsync(query, 15, options).Select(h => (h.Record.Id, h.Score)).ToListAsync()).Should().Equal(want);
        }

        // The new shard splits again, and writes keep landing on the right shard.
        int grandchild = await provider.SplitShardAsync("items", child);
        grandchild.Should().Be(3);
        await stale.UpsertAsync(Item.Generate(20, seed: 99, firstId: 100_000));
        (await items.GetAsync(Enumerable.Range(100_000, 20)).CountAsync()).Should().Be(20);
        await FluentActions.Awaiting(() => provider.SplitShardAsync("items", 42)).Should().ThrowAsync<ArgumentException>().WithMessage("*no shard 42*");
    }
}
