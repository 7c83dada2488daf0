using DeepRetrieval.Orleans;
using DeepRetrieval.VectorData;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>
/// Three silos in this process (Orleans' TestingHost) hosting the vector shards, with grain state in files under a
/// temporary folder (so a silo that is killed loses nothing but its memory), and fast failure detection.
/// </summary>
public sealed class InProcessCluster : IAsyncLifetime
{
    private const string FolderKey = "DeepRetrievalStorage";
    private const string CheckpointKey = "DeepRetrievalCheckpointEntries";

    public InProcessCluster()
        : this(checkpointLogEntries: 4096)
    {
    }

    internal InProcessCluster(int checkpointLogEntries, string? folder = null)
    {
        CheckpointLogEntries = checkpointLogEntries;
        Folder = folder ?? Directory.CreateTempSubdirectory("deepretrieval-orleans-").FullName;
    }

    public string Folder { get; }

    public int CheckpointLogEntries { get; }

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(3);
        builder.Properties[FolderKey] = Folder;
        builder.Properties[CheckpointKey] = CheckpointLogEntries.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A store over the cluster; each test takes its own store name, so tests share nothing.</summary>
    public DeepRetrievalVectorStore Store(string storeName, int shards = 3, int replicas = 1, ReadConsistency consistency = ReadConsistency.Session,
        bool allowPartialResults = false) =>
        new(new OrleansRecordEngineProvider(Cluster.Client, new DeepRetrievalOrleansOptions
        {
            StoreName = storeName, ShardCount = shards, ReplicaCount = replicas, ReadConsistency = consistency, AllowPartialResults = allowPartialResults,
        }));

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            string folder = silo.Configuration[FolderKey]!;
            int entries = int.Parse(silo.Configuration[CheckpointKey]!, System.Globalization.CultureInfo.InvariantCulture);
            silo.AddDeepRetrievalVectorShards(o =>
                {
                    o.CheckpointLogEntries = entries;
                    o.SnapshotChunkBytes = 4096; // small chunks: every snapshot spans several records
                    o.ReplicaPollInterval = TimeSpan.FromMilliseconds(300);
                    o.ReadAttemptTimeout = TimeSpan.FromSeconds(3);
                })
                .AddDeepRetrievalFileGrainStorage(DeepRetrievalShardOptions.DefaultStorageProviderName, folder);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
        }
    }
}

/// <summary>One cluster shared by the tests that do not kill silos.</summary>
[CollectionDefinition(Name)]
public sealed class SharedClusterCollection : ICollectionFixture<InProcessCluster>
{
    public const string Name = "in-process cluster";
}
