using System.Net;
using DeepRetrieval.Orleans;
using DeepRetrieval.Orleans.Sql;
using DeepRetrieval.Samples.SearchService;
using Microsoft.Extensions.VectorData;
using Orleans.Configuration;

// A search service hosted in an Orleans silo. Every instance is a silo of the cluster and serves HTTP; the collections are
// sharded over all silos. See docs/orleans.md for starting three on one machine.
var builder = WebApplication.CreateBuilder(args);
IConfigurationSection cluster = builder.Configuration.GetSection("Cluster");
int siloPort = cluster.GetValue("SiloPort", 11111), gatewayPort = cluster.GetValue("GatewayPort", 30000);
builder.UseOrleans(silo =>
{
    silo.Configure<ClusterOptions>(o => o.ClusterId = o.ServiceId = cluster["ClusterId"] ?? "search-service");
    if (string.Equals(cluster["Clustering"], "PostgreSql", StringComparison.OrdinalIgnoreCase))
    {
        // Membership and shard storage in PostgreSQL: any silo can die and the others carry on.
        string connection = cluster["PostgreSql"] ?? throw new InvalidOperationException("Cluster:PostgreSql (a connection string) is required.");
        silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort)
            .UseAdoNetClustering(o => { o.Invariant = OrleansPostgreSqlSchema.Invariant; o.ConnectionString = connection; })
            .AddAdoNetGrainStorage(DeepRetrievalShardOptions.DefaultStorageProviderName, o =>
            {
                o.Invariant = OrleansPostgreSqlSchema.Invariant;
                o.ConnectionString = connection;
                o.DeleteStateOnClear = true;
            });
    }
    else
    {
        // Development: the silo on PrimarySiloPort keeps membership; shard storage in a folder all silos share.
        var primary = new IPEndPoint(IPAddress.Loopback, cluster.GetValue("PrimarySiloPort", 11111));
        silo.UseLocalhostClustering(siloPort, gatewayPort, primary, cluster["ClusterId"] ?? "search-service", cluster["ClusterId"] ?? "search-service")
            .AddDeepRetrievalFileGrainStorage(DeepRetrievalShardOptions.DefaultStorageProviderName, Path.GetFullPath(cluster["Folder"] ?? "deepretrieval-search-data"));
    }
    silo.AddDeepRetrievalVectorShards();
});
IConfigurationSection service = builder.Configuration.GetSection("SearchService");
int dimension = service.GetValue("Dimension", 4);
builder.Services.AddDeepRetrievalOrleansVectorStore(new DeepRetrievalOrleansOptions
{
    ShardCount = service.GetValue("Shards", 3),
    ReplicaCount = service.GetValue("Replicas", 1),
});

var app = builder.Build();

// Bad input (a wrong dimension, a zero vector) is a 400, not a 500.
app.Use(async (context, next) =>
{
    try
    {
        await next(context);
    }
    catch (ArgumentException e) when (!context.Response.HasStarted)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsJsonAsync(new { error = e.Message });
    }
});

VectorStoreCollection<long, Item> Collection(VectorStore store, string name) => store.GetCollection<long, Item>(name, Item.Definition(dimension));

app.MapPut("/collections/{name}", async (string name, VectorStore store) =>
{
    await Collection(store, name).EnsureCollectionExistsAsync();
    return Results.NoContent();
});

app.MapPost("/collections/{name}/items", async (string name, Item[] items, VectorStore store) =>
{
    await Collection(store, name).UpsertAsync(items);
    return Results.Ok(new { upserted = items.Length });
});

app.MapGet("/collections/{name}/items/{id:long}", async (string name, long id, VectorStore store) =>
    await Collection(store, name).GetAsync(id) is { } item ? Results.Ok(item) : Results.NotFound());

app.MapDelete("/collections/{name}/items/{id:long}", async (string name, long id, VectorStore store) =>
{
    await Collection(store, name).DeleteAsync(id);
    return Results.NoContent();
});

app.MapPost("/collections/{name}/search", async (string name, SearchRequest request, VectorStore store) =>
    Results.Ok(await SearchAsync(Collection(store, name), request.Vector, request.Top, request.Tag)));

app.MapPost("/collections/{name}/search/image", async (string name, HttpRequest request, VectorStore store, IServiceProvider services, int? top, string? tag) =>
{
    if (services.GetService<IImageEmbedder>() is not { } embedder)
        return Results.Problem("Search by image needs an IImageEmbedder registered in the service (an ONNX image embedder, say).", statusCode: StatusCodes.Status501NotImplemented);
    float[] vector = await embedder.EmbedAsync(request.Body, request.HttpContext.RequestAborted);
    return Results.Ok(await SearchAsync(Collection(store, name), vector, top ?? 10, tag));
});

app.Run();

static async Task<List<SearchHit>> SearchAsync(VectorStoreCollection<long, Item> collection, float[] vector, int top, string? tag)
{
    var options = new VectorSearchOptions<Item> { Filter = tag is null ? null : i => i.Tags.Contains(tag) };
    var hits = new List<SearchHit>();
    await foreach (var hit in collection.SearchAsync(vector, top, options)) hits.Add(new SearchHit(hit.Record.Id, hit.Record.Title, hit.Score ?? 0));
    return hits;
}
