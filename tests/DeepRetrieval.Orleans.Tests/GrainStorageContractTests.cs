using DeepRetrieval.Orleans.Sql;
using DeepRetrieval.Orleans.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>
/// What the shards rely on from a grain storage provider, checked on the file provider and on Orleans' ADO.NET provider over
/// this package's PostgreSQL schema: a missing record reads as absent; an insert (no ETag) succeeds only once; a replace
/// needs the current ETag; a delete needs it too and makes the record absent.
/// </summary>
public sealed class GrainStorageContractTests
{
    [Fact]
    public async Task FileGrainStorage_FollowsTheContract()
    {
        string folder = Directory.CreateTempSubdirectory("deepretrieval-files-").FullName;
        try
        {
            var serializer = new OrleansGrainStorageSerializer(new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>());
            var storage = new FileGrainStorage(folder, serializer);
            await CheckContractAsync(storage);
            await storage.WriteStateAsync("record", GrainId.Create("test", "kept"), new GrainState<StoredBytes>(new StoredBytes { Data = [3, 4] }, null));
            // A second provider over the same folder (another silo process) sees the same records and ETags.
            var other = new FileGrainStorage(folder, serializer);
            var state = new GrainState<StoredBytes>();
            await other.ReadStateAsync("record", GrainId.Create("test", "kept"), state);
            state.RecordExists.Should().BeTrue();
            state.State!.Data.Should().Equal(3, 4);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [SkippableFact]
    public async Task AdoNetGrainStorage_OnThePostgreSqlSchema_FollowsTheContract()
    {
        PostgresServer.SkipUnlessReachable();
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<AdoNetSilo>();
        await using TestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        IGrainStorage storage = cluster.GetSiloServiceProvider().GetRequiredKeyedService<IGrainStorage>("contract");
        await CheckContractAsync(storage);
    }

    private static async Task CheckContractAsync(IGrainStorage storage)
    {
        GrainId id = GrainId.Create("test", $"record-{Guid.NewGuid():N}");
        var state = new GrainState<StoredBytes>();
        await storage.ReadStateAsync("record", id, state);
        state.RecordExists.Should().BeFalse();
        state.ETag.Should().BeNull();

        var first = new GrainState<StoredBytes>(new StoredBytes { Data = [1, 2] }, null);
        await storage.WriteStateAsync("record", id, first);
        first.ETag.Should().NotBeNullOrEmpty();
        var again = new GrainState<StoredBytes>(new StoredBytes { Data = [9] }, null);
        await FluentActions.Awaiting(() => storage.WriteStateAsync("record", id, again)).Should().ThrowAsync<InconsistentStateException>("an insert succeeds only once");

        var replace = new GrainState<StoredBytes>(new StoredBytes { Data = [3, 4, 5] }, first.ETag);
        await storage.WriteStateAsync("record", id, replace);
        replace.ETag.Should().NotBe(first.ETag);
        var stale = new GrainState<StoredBytes>(new StoredBytes { Data = [6] }, first.ETag);
        await FluentActions.Awaiting(() => storage.WriteStateAsync("record", id, stale)).Should().ThrowAsync<InconsistentStateException>("a stale ETag is fenced off");

        var read = new GrainState<StoredBytes>();
        await storage.ReadStateAsync("record", id, read);
        read.RecordExists.Should().BeTrue();
        read.ETag.Should().Be(replace.ETag);
        read.State!.Data.Should().Equal(3, 4, 5);
        var otherName = new GrainState<StoredBytes>();
        await storage.ReadStateAsync("other", id, otherName);
        otherName.RecordExists.Should().BeFalse("records are keyed by state name and grain id");

        await FluentActions.Awaiting(() => storage.ClearStateAsync("record", id, new GrainState<StoredBytes>(new StoredBytes(), first.ETag)))
            .Should().ThrowAsync<InconsistentStateException>();
        await storage.ClearStateAsync("record", id, new GrainState<StoredBytes>(new StoredBytes(), replace.ETag));
        var cleared = new GrainState<StoredBytes>();
        await storage.ReadStateAsync("record", id, cleared);
        cleared.RecordExists.Should().BeFalse();
        var reinserted = new GrainState<StoredBytes>(new StoredBytes { Data = [7] }, cleared.ETag);
        await storage.WriteStateAsync("record", id, reinserted);
        reinserted.ETag.Should().NotBeNullOrEmpty("a deleted record can be inserted again");
    }

    private sealed class AdoNetSilo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo.AddAdoNetGrainStorage("contract", o =>
        {
            o.Invariant = OrleansPostgreSqlSchema.Invariant;
            o.ConnectionString = PostgresServer.ConnectionString;
            o.DeleteStateOnClear = true;
        });
    }
}
