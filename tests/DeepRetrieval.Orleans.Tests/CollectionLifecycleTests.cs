using DeepRetrieval.Orleans.Grains;
using DeepRetrieval.VectorData;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>The abstraction's collection life and bad input over the cluster, as the in-process store behaves.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class CollectionLifecycleTests(InProcessCluster cluster)
{
    [Fact]
    public async Task Collections_AreCreatedListedDeletedAndRecreatedEmpty()
    {
        var store = cluster.Store("store-lifecycle");
        var items = store.GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity));
        (await items.CollectionExistsAsync()).Should().BeFalse();
        await items.EnsureCollectionExistsAsync();
        await items.EnsureCollectionExistsAsync(); // idempotent
        (await store.ListCollectionNamesAsync().ToListAsync()).Should().Equal("items");
        await items.UpsertAsync(Item.Generate(20, seed: 1));
        (await items.GetAsync(5)).Should().NotBeNull();

        await items.EnsureCollectionDeletedAsync();
        (await items.CollectionExistsAsync()).Should().BeFalse();
        (await store.ListCollectionNamesAsync().ToListAsync()).Should().BeEmpty();
        Func<Task> read = () => items.GetAsync(5);
        (await read.Should().ThrowAsync<VectorStoreException>()).Which.Message.Should().Contain("does not exist");

        await items.EnsureCollectionExistsAsync();
        (await items.GetAsync(5)).Should().BeNull("a re-created collection starts empty");
        await items.UpsertAsync(Item.Generate(3, seed: 2));
        (await items.GetAsync([0, 1, 2]).CountAsync()).Should().Be(3);
    }

    [Fact]
    public async Task EnsureCollectionExists_WithADifferentDefinition_Throws()
    {
        var store = cluster.Store("store-mismatch");
        await store.GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity)).EnsureCollectionExistsAsync();
        var other = store.GetCollection<int, Item>("items", Item.Definition(DistanceFunction.EuclideanDistance));
        Func<Task> ensure = () => other.EnsureCollectionExistsAsync();
        (await ensure.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("different record definition");
    }

    [Fact]
    public async Task Upsert_WithABadRecordInTheBatch_ThrowsAndWritesNothing()
    {
        var items = cluster.Store("store-bad").GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity));
        await items.EnsureCollectionExistsAsync();
        var batch = Item.Generate(10, seed: 3);
        batch[7].Embedding = new float[] { 1, 2, 3 };
        Func<Task> upsert = () => items.UpsertAsync(batch);
        (await upsert.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("3 dimensions");
        batch[7].Embedding = new float[Item.Dimension];
        (await upsert.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("all zeros");
        (await items.GetAsync(Enumerable.Range(0, 10)).CountAsync()).Should().Be(0, "no shard got any row of a rejected batch");
        Func<Task> search = () => items.SearchAsync(new float[] { 1, 2 }, 3).ToListAsync().AsTask();
        await search.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task UpsertDeleteAndReplace_AreVisibleToTheNextReadOfTheSameHandle()
    {
        var items = cluster.Store("store-session").GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity));
        await items.EnsureCollectionExistsAsync();
        float[] query = [2, 2, 2, 2, 2, 2, 2, 1];
        for (int round = 0; round < 15; round++)
        {
            var item = new Item { Id = round, Category = "a", Price = round, Embedding = query };
            await items.UpsertAsync(item);
            // Reads alternate between primaries and replicas; read-your-writes holds on either.
            (await items.SearchAsync(query, 1).SingleAsync()).Record.Id.Should().BeOneOf(Enumerable.Range(0, round + 1));
            (await items.GetAsync(round))!.Price.Should().Be(round);
            item.Price = 1000 + round;
            await items.UpsertAsync(item);
            (await items.GetAsync(round))!.Price.Should().Be(1000 + round);
            await items.DeleteAsync(round);
            (await items.GetAsync(round)).Should().BeNull();
        }
    }

    [Fact]
    public async Task Replicas_CatchUpWithThePrimary_AndLiveOnOtherSilos()
    {
        var store = cluster.Store("store-replicas", shards: 3, replicas: 2);
        var items = store.GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity));
        await items.EnsureCollectionExistsAsync();
        await items.UpsertAsync(Item.Generate(90, seed: 4));
        await items.DeleteAsync([1, 2, 3]);
        var catalog = cluster.Cluster.Client.GetGrain<IVectorCatalogGrain>("store-replicas");
        CollectionDescriptor collection = (await catalog.GetAsync("items"))!;
        int total = 0;
        foreach (int shard in collection.ShardIds)
        {
            ShardStatus primary = await cluster.Cluster.Client.GetGrain<IVectorShardGrain>(collection.ShardKey(shard)).GetStatusAsync();
            total += primary.Count;
            var silos = new HashSet<string> { primary.Silo };
            for (int r = 1; r <= 2; r++)
            {
                var replica = cluster.Cluster.Client.GetGrain<IVectorReplicaGrain>(collection.ReplicaKey(shard, r));
                await replica.CatchUpAsync();
                ShardStatus status = await replica.GetStatusAsync();
                status.Sequence.Should().Be(primary.Sequence);
                status.Count.Should().Be(primary.Count);
                silos.Add(status.Silo);
            }
            silos.Should().HaveCount(3, "with three silos, each member of a shard's replica set has its own");
        }
        total.Should().Be(87);
    }
}
