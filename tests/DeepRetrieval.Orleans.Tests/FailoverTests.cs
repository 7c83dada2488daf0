using DeepRetrieval.Orleans.Grains;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>
/// Killing silos of an in-process cluster: every acknowledged write survives (it is in the shard's log or snapshot in
/// storage), reads keep answering from the surviving replicas, and a whole new cluster over the same storage reloads every
/// shard from its checkpoints and logs.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    // Checkpoint every 5 log entries, so recovery reads snapshots (several 4 KiB chunks) and a log tail.
    private readonly InProcessCluster _cluster = new(checkpointLogEntries: 5);

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task KillingASilo_LosesNoAcknowledgedWrite_AndReadsKeepAnswering()
    {
        var items = _cluster.Store("store-failover", shards: 3, replicas: 1).GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity));
        await items.EnsureCollectionExistsAsync();
        var written = Item.Generate(300, seed: 5);
        foreach (var batch in written.Chunk(10)) await items.UpsertAsync(batch);
        await items.DeleteAsync([0, 1, 2]);
        float[] query = [1, 0, 2, 1, 0, 0, 1, 2];
        var before = await items.SearchAsync(query, 10).Select(h => (h.Record.Id, h.Score)).ToListAsync();

        var victim = _cluster.Cluster.SecondarySilos[0];
        await _cluster.Cluster.KillSiloAsync(victim);

        // Reads right after the kill: the members on the dead silo fail over to the other member of their replica set.
        var after = await items.SearchAsync(query, 10).Select(h => (h.Record.Id, h.Score)).ToListAsync();
        after.Should().Equal(before);
        // Writes wait for their primary to reactivate on a live silo (the router retries), then succeed.
        await items.UpsertAsync(Item.Generate(30, seed: 6, firstId: 300));
        var stored = await items.GetAsync(Enumerable.Range(0, 330)).Select(i => i.Id).ToListAsync();
        stored.Should().BeEquivalentTo(Enumerable.Range(3, 327));
    }

    [Fact]
    public async Task ASplitCollection_ReloadsWithItsNewShardMap_InANewCluster()
    {
        var provider = new OrleansRecordEngineProvider(_cluster.Cluster.Client, new DeepRetrievalOrleansOptions { StoreName = "store-split-restart", ShardCount = 1, ReplicaCount = 1 });
        var items = new DeepRetrieval.VectorData.DeepRetrievalVectorStore(provider).GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity));
        await items.EnsureCollectionExistsAsync();
        foreach (var batch in Item.Generate(120, seed: 31).Chunk(9)) await items.UpsertAsync(batch);
        await provider.SplitShardAsync("items", 0);
        await items.UpsertAsync(Item.Generate(30, seed: 32, firstId: 120));
        await items.DeleteAsync([0, 1, 121]);
        float[] query = [2, 1, 0, 0, 1, 2, 0, 1];
        var before = await items.SearchAsync(query, 20).Select(h => (h.Record.Id, h.Score)).ToListAsync();

        await _cluster.Cluster.StopAllSilosAsync();
        var second = new InProcessCluster(checkpointLogEntries: 5, folder: _cluster.Folder);
        await second.InitializeAsync();
        try
        {
            var reopenedProvider = new OrleansRecordEngineProvider(second.Cluster.Client, new DeepRetrievalOrleansOptions { StoreName = "store-split-restart" });
            (await reopenedProvider.GetShardsAsync("items"))!.Select(s => s.Shard).Should().Equal(0, 1);
            var reopened = new DeepRetrieval.VectorData.DeepRetrievalVectorStore(reopenedProvider).GetCollection<int, Item>("items", Item.Definition(DistanceFunction.CosineSimilarity));
            (await reopened.SearchAsync(query, 20).Select(h => (h.Record.Id, h.Score)).ToListAsync()).Should().Equal(before);
            (await reopened.GetAsync(Enumerable.Range(0, 150)).CountAsync()).Should().Be(147);
        }
        finally
        {
            await second.Cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task ANewClusterOverTheSameStorage_ReloadsEveryShardFromCheckpointsAndLogs()
    {
        var items = _cluster.Store("store-restart", shards: 3, replicas: 1).GetCollection<int, Item>("items", Item.Definition(DistanceFunction.EuclideanDistance));
        await items.EnsureCollectionExistsAsync();
        var written = Item.Generate(200, seed: 8);
        foreach (var batch in written.Chunk(7)) await items.UpsertAsync(batch);
        await items.DeleteAsync([10, 11]);
        float[] query = [0, 1, 2, 1, 0, 2, 1, 1];
        var before = await items.SearchAsync(query, 25, new() { Filter = i => i.Price > 20 }).Select(h => (h.Record.Id, h.Score)).ToListAsync();
        var catalog = _cluster.Cluster.Client.GetGrain<IVectorCatalogGrain>("store-restart");
        CollectionDescriptor collection = (await catalog.GetAsync("items"))!;
        ShardStatus status = await _cluster.Cluster.Client.GetGrain<IVectorShardGrain>(collection.ShardKey(0)).GetStatusAsync();
        status.Generation.Should().BeGreaterThan(0, "a shard with more than five log entries has checkpointed");

        await _cluster.Cluster.StopAllSilosAsync();
        var second = new InProcessCluster(checkpointLogEntries: 5, folder: _cluster.Folder);
        await second.InitializeAsync();
        try
        {
            var reopened = second.Store("store-restart").GetCollection<int, Item>("items", Item.Definition(DistanceFunction.EuclideanDistance));
            var after = await reopened.SearchAsync(query, 25, new() { Filter = i => i.Price > 20 }).Select(h => (h.Record.Id, h.Score)).ToListAsync();
            after.Should().Equal(before);
            (await reopened.GetAsync(Enumerable.Range(0, 200)).CountAsync()).Should().Be(198);
            var record = await reopened.GetAsync(150, new RecordRetrievalOptions { IncludeVectors = true });
            record!.Embedding.ToArray().Should().Equal(written[150].Embedding.ToArray());
            record.Tags.Should().Equal(written[150].Tags);
        }
        finally
        {
            await second.Cluster.DisposeAsync();
        }
    }
}
