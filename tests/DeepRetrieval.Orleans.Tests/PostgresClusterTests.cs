using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using DeepRetrieval.Orleans.Grains;
using DeepRetrieval.Orleans.Routing;
using DeepRetrieval.Orleans.Sql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.VectorData;
using Orleans.Configuration;
using Orleans.Hosting;
using Xunit.Abstractions;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>
/// A real cluster on this machine: three silo processes with ADO.NET membership and grain storage on PostgreSQL, and this
/// process as an Orleans client using the VectorData API. Concurrent clients upsert and search for a bounded time; one silo
/// hosting a shard primary is killed with SIGKILL mid-load. Every acknowledged upsert must be readable afterwards, searches
/// must keep answering (from the replicas on the other silos), writes to the dead primary's shard must resume once it
/// reactivates, and the final searches must equal exact search over everything stored.
/// </summary>
/// <remarks>
/// CI runs a short load (6 s before the kill, 14 s after). A longer run for the figures in docs/benchmarks.md:
/// <c>DEEPRETRIEVAL_ORLEANS_LOAD="clients=8;before=20;after=40" dotnet test tests/DeepRetrieval.Orleans.Tests -c Release --filter "FullyQualifiedName~PostgresClusterTests"</c>
/// (the figures are printed to the test output; add <c>--logger "console;verbosity=detailed"</c> to see them).
/// </remarks>
public sealed class PostgresClusterTests(ITestOutputHelper output)
{
    private const int Dimension = 32;

    [SkippableFact]
    public async Task ThreeSiloProcesses_UnderLoad_LoseNoAcknowledgedUpsert_WhenOneIsKilled()
    {
        PostgresServer.SkipUnlessReachable();
        LoadSettings settings = LoadSettings.FromEnvironment();
        string clusterId = $"dr-{Guid.NewGuid():N}";
        await using var silos = new SiloProcesses(PostgresServer.ConnectionString, clusterId);
        var boot = Stopwatch.StartNew();
        await silos.StartAsync(3, TimeSpan.FromSeconds(120));
        TimeSpan booted = boot.Elapsed;

        using IHost client = await StartClientAsync(clusterId);
        var collection = client.Services.GetRequiredService<VectorStore>().GetCollection<int, Doc>("docs");
        await collection.EnsureCollectionExistsAsync();

        var random = new Random(42);
        var vectors = new ConcurrentDictionary<int, float[]>();
        int nextId = 0;
        for (int b = 0; b < settings.Preload / 100; b++)
        {
            var batch = Enumerable.Range(0, 100).Select(_ => NewDoc(Interlocked.Increment(ref nextId) - 1, random, vectors)).ToList();
            await collection.UpsertAsync(batch);
        }
        var acknowledged = new ConcurrentDictionary<int, bool>();
        foreach (int id in vectors.Keys) acknowledged[id] = true;

        // Kill the silo that hosts the most shard primaries.
        var grains = client.Services.GetRequiredService<IClusterClient>();
        CollectionDescriptor descriptor = (await grains.GetGrain<IVectorCatalogGrain>(StoreName).GetAsync("docs"))!;
        var primaries = new Dictionary<int, string>();
        foreach (int shard in descriptor.ShardIds)
            primaries[shard] = (await grains.GetGrain<IVectorShardGrain>(descriptor.ShardKey(shard)).GetStatusAsync()).Silo;
        SiloProcesses.Silo victim = silos.Silos.OrderByDescending(s => primaries.Values.Count(s.Hosts)).First();
        int[] deadShards = primaries.Where(p => victim.Hosts(p.Value)).Select(p => p.Key).ToArray();
        deadShards.Should().NotBeEmpty();

        var searches = new ConcurrentBag<Operation>();
        var writes = new ConcurrentBag<Operation>();
        var clock = Stopwatch.StartNew();
        double killAt = settings.SecondsBeforeKill, end = settings.SecondsBeforeKill + settings.SecondsAfterKill;
        var killer = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(killAt));
            victim.Kill();
            return clock.Elapsed.TotalSeconds;
        });
        var workers = Enumerable.Range(0, settings.Clients).Select(c => Task.Run(async () =>
        {
            var local = new Random(1000 + c);
            while (clock.Elapsed.TotalSeconds < end)
            {
                double started = clock.Elapsed.TotalSeconds;
                if (local.NextDouble() < 0.3)
                {
                    var batch = Enumerable.Range(0, 4).Select(_ => NewDoc(Interlocked.Increment(ref nextId) - 1, local, vectors)).ToList();
                    int[] shards = batch.Select(d => ShardMap.Of(descriptor).ShardOfKey(d.Id)).Distinct().ToArray();
                    bool ok = await Attempt(() => collection.UpsertAsync(batch));
                    if (ok) foreach (Doc d in batch) acknowledged[d.Id] = true;
                    writes.Add(new Operation(started, clock.Elapsed.TotalSeconds, ok, shards));
                }
                else
                {
                    float[] query = RandomUnit(local);
                    bool ok = await Attempt(async () => (await collection.SearchAsync(query, 10).CountAsync()).Should().Be(10));
                    searches.Add(new Operation(started, clock.Elapsed.TotalSeconds, ok, []));
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        double killed = await killer;

        // No acknowledged upsert is lost.
        int[] expected = acknowledged.Keys.Order().ToArray();
        var present = new HashSet<int>();
        foreach (int[] chunk in expected.Chunk(500))
            await foreach (Doc d in collection.GetAsync(chunk)) present.Add(d.Id);
        expected.Where(id => !present.Contains(id)).Should().BeEmpty("every acknowledged upsert must survive the SIGKILL");

        // Full recall: searches equal exact search over everything the cluster holds (acknowledged writes, and any
        // unacknowledged one that landed).
        var stored = new Dictionary<int, float[]>();
        foreach (int[] chunk in Enumerable.Range(0, nextId).Chunk(500))
            await foreach (Doc d in collection.GetAsync(chunk, new RecordRetrievalOptions { IncludeVectors = true })) stored[d.Id] = d.Embedding.ToArray();
        for (int q = 0; q < 20; q++)
        {
            float[] query = RandomUnit(random);
            var exact = stored.OrderByDescending(p => Cosine(query, p.Value)).Take(10).Select(p => p.Key).ToArray();
            var answer = await collection.SearchAsync(query, 10).Select(h => h.Record.Id).ToArrayAsync();
            answer.Should().Equal(exact, "after recovery every shard answers with all of its records");
        }

        // Searches kept answering; writes to the dead primary's shards resumed.
        var before = searches.Where(s => s.End < killed).ToList();
        var after = searches.Where(s => s.Start >= killed).ToList();
        double afterSuccess = after.Count(s => s.Ok) / (double)Math.Max(1, after.Count);
        double longestGap = LongestGap(after.Where(s => s.Ok).Select(s => s.End).Prepend(killed).Append(end).Order().ToList());
        var recoveries = deadShards.Select(shard => writes.Where(w => w.Ok && w.Start >= killed && w.Shards.Contains(shard)).Select(w => w.End - killed).DefaultIfEmpty(double.NaN).Min()).ToArray();
        Report(settings, booted, before, after, writes, killed, afterSuccess, longestGap, deadShards, recoveries);
        afterSuccess.Should().BeGreaterThan(0.9, "searches keep answering from the replicas while the dead shards reactivate");
        recoveries.Should().OnlyContain(r => !double.IsNaN(r), "writes to every dead primary's shard resume once it reactivates on a live silo");
        writes.Where(w => w.Start >= killed).Should().Contain(w => w.Ok);
    }

    private const string StoreName = "load";
    private static readonly ConcurrentDictionary<string, int> Failures = new();

    private static async Task<IHost> StartClientAsync(string clusterId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(c => c
            .UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansPostgreSqlSchema.Invariant;
                o.ConnectionString = PostgresServer.ConnectionString;
            })
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            })
            .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(2))
            // A call stuck on the killed silo fails after 5 s (not the default 30 s) and is made again on a live one.
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5)));
        // The same application code as with the in-process store; only this registration differs.
        builder.Services.AddDeepRetrievalOrleansVectorStore(new DeepRetrievalOrleansOptions { StoreName = StoreName, ShardCount = 3, ReplicaCount = 1 });
        IHost host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<bool> Attempt(Func<Task> operation)
    {
        try
        {
            await operation();
            return true;
        }
        catch (VectorStoreException e)
        {
            Failures.AddOrUpdate($"{e.InnerException?.GetType().Name}: {e.InnerException?.InnerException?.GetType().Name} {e.InnerException?.InnerException?.Message}", 1, (_, n) => n + 1);
            return false;
        }
    }

    private static Doc NewDoc(int id, Random random, ConcurrentDictionary<int, float[]> vectors)
    {
        float[] v = RandomUnit(random);
        vectors[id] = v;
        return new Doc { Id = id, Group = id % 7, Embedding = v };
    }

    private static float[] RandomUnit(Random random)
    {
        var v = new float[Dimension];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        return v;
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    private static double LongestGap(List<double> times)
    {
        double gap = 0;
        for (int i = 1; i < times.Count; i++) gap = Math.Max(gap, times[i] - times[i - 1]);
        return gap;
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    private void Report(LoadSettings settings, TimeSpan boot, List<Operation> before, List<Operation> after, ConcurrentBag<Operation> writes, double killed,
        double afterSuccess, double longestGap, int[] deadShards, double[] recoveries)
    {
        string Line(string phase, List<Operation> ops, double seconds) => string.Create(CultureInfo.InvariantCulture,
            $"| {phase} | {ops.Count(o => o.Ok) / seconds:F0} | {Percentile(ops.Where(o => o.Ok).Select(o => o.Latency * 1000), 0.5):F1} | {Percentile(ops.Where(o => o.Ok).Select(o => o.Latency * 1000), 0.99):F1} | {ops.Count(o => !o.Ok)} |");
        var writesBefore = writes.Where(w => w.End < killed).ToList();
        var writesAfter = writes.Where(w => w.Start >= killed).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"clients {settings.Clients}, preload {settings.Preload}, {settings.SecondsBeforeKill} s before the SIGKILL, {settings.SecondsAfterKill} s after; silos booted in {boot.TotalSeconds:F1} s"));
        output.WriteLine("| phase | ops/s | p50 ms | p99 ms | failed |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        output.WriteLine(Line("searches before the kill", before, killed));
        output.WriteLine(Line("searches after the kill", after, settings.SecondsBeforeKill + settings.SecondsAfterKill - killed));
        output.WriteLine(Line("upserts (4 records) before", writesBefore, killed));
        output.WriteLine(Line("upserts (4 records) after", writesAfter, settings.SecondsBeforeKill + settings.SecondsAfterKill - killed));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"failures: {string.Join("; ", Failures.Select(f => $"{f.Value} × {f.Key}"))}\nsearches answered after the kill: {afterSuccess:P1}; longest gap between answered searches: {longestGap:F2} s; dead primaries' shards {string.Join(",", deadShards)}: first acknowledged write {string.Join(", ", recoveries.Select(r => $"{r:F1} s"))} after the kill"));
    }

    private sealed record Operation(double Start, double End, bool Ok, int[] Shards)
    {
        public double Latency => End - Start;
    }

    private sealed record LoadSettings(int Clients, int Preload, double SecondsBeforeKill, double SecondsAfterKill)
    {
        public static LoadSettings FromEnvironment()
        {
            var settings = new LoadSettings(Clients: 4, Preload: 3000, SecondsBeforeKill: 6, SecondsAfterKill: 14);
            string? text = Environment.GetEnvironmentVariable("DEEPRETRIEVAL_ORLEANS_LOAD");
            if (string.IsNullOrWhiteSpace(text)) return settings;
            foreach (string part in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] kv = part.Split('=', 2);
                double value = double.Parse(kv[1], CultureInfo.InvariantCulture);
                settings = kv[0].Trim() switch
                {
                    "clients" => settings with { Clients = (int)value },
                    "preload" => settings with { Preload = (int)value },
                    "before" => settings with { SecondsBeforeKill = value },
                    "after" => settings with { SecondsAfterKill = value },
                    _ => throw new ArgumentException($"DEEPRETRIEVAL_ORLEANS_LOAD: unknown setting '{kv[0]}' (clients, preload, before, after)."),
                };
            }
            return settings;
        }
    }

    public sealed class Doc
    {
        [VectorStoreKey] public int Id { get; set; }

        [VectorStoreData(IsIndexed = true)] public int Group { get; set; }

        [VectorStoreVector(Dimension, DistanceFunction = DistanceFunction.CosineSimilarity, IndexKind = IndexKind.Flat)]
        public ReadOnlyMemory<float> Embedding { get; set; }
    }
}
