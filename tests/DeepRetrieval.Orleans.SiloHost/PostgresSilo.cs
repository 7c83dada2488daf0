using System.Net;
using DeepRetrieval.Orleans;
using DeepRetrieval.Orleans.Sql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace DeepRetrieval.Orleans.SiloHost;

/// <summary>The configuration every silo of a PostgreSQL-backed test cluster shares (also used by the sample).</summary>
public static class PostgresSilo
{
    /// <summary>ADO.NET membership and grain storage on PostgreSQL, the vector shards, loopback endpoints, fast failure detection.</summary>
    public static ISiloBuilder Configure(ISiloBuilder silo, string connectionString, string clusterId, int siloPort, int gatewayPort)
    {
        silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            })
            .ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false)
            .UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansPostgreSqlSchema.Invariant;
                o.ConnectionString = connectionString;
            })
            .AddAdoNetGrainStorage(DeepRetrievalShardOptions.DefaultStorageProviderName, o =>
            {
                o.Invariant = OrleansPostgreSqlSchema.Invariant;
                o.ConnectionString = connectionString;
                o.DeleteStateOnClear = true; // log entries and old snapshot chunks are deleted, not kept as empty rows
            })
            .AddDeepRetrievalVectorShards(o =>
            {
                o.ReplicaPollInterval = TimeSpan.FromSeconds(1);
                o.ReadAttemptTimeout = TimeSpan.FromSeconds(2);
                o.WriteAttemptTimeout = TimeSpan.FromSeconds(3);
            })
            .Configure<ClusterMembershipOptions>(o =>
            {
                // Declare a killed silo dead within a few seconds (the defaults take about half a minute).
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            });
        silo.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        return silo;
    }
}
