using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// Searches, filtered reads and upserts at once: nothing throws, every search returns exact scores for the vectors it returns,
/// and every batch is seen entirely or not at all (a batch writes <c>BatchSize</c> records tagged with its number).
/// </summary>
public sealed class ConcurrencyTests : IDisposable
{
    private const int BatchSize = 25;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public sealed class Tagged
    {
        [VectorStoreKey] public int Key { get; set; }
        [VectorStoreData] public int Batch { get; set; }
        [VectorStoreVector(8, DistanceFunction = DistanceFunction.EuclideanSquaredDistance, IndexKind = IndexKind.Hnsw)] public float[] Vector { get; set; } = [];
    }

    private static float[] VectorOf(int key) => Enumerable.Range(0, 8).Select(i => MathF.Cos(key * 0.1f + i)).ToArray();

    [Theory]
    [InlineData(IndexKind.Flat)]
    [InlineData(IndexKind.Hnsw)]
    public async Task SearchesDuringUpserts_SeeWholeBatches_AndCorrectScores(string indexKind)
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Key", typeof(int)),
                new VectorStoreDataProperty("Batch", typeof(int)),
                new VectorStoreVectorProperty("Vector", typeof(float[]), 8) { DistanceFunction = DistanceFunction.EuclideanSquaredDistance, IndexKind = indexKind },
            ],
        };
        using var store = new DeepRetrievalVectorStore(_folder.Path, new DeepRetrievalVectorStoreOptions { Storage = { Durability = DurabilityMode.FlushToOperatingSystem } });
        using var collection = store.GetCollection<int, Tagged>("busy", definition);
        await collection.EnsureCollectionExistsAsync();
        const int batches = 60;
        using var done = new CancellationTokenSource();

        Task writer = Task.Run(async () =>
        {
            for (int b = 0; b < batches; b++)
            {
                // Odd batches rewrite the previous batch's keys with new vectors: updates race with searches too.
                int first = b % 2 == 1 ? (b - 1) * BatchSize : b * BatchSize;
                await collection.UpsertAsync(Enumerable.Range(first, BatchSize).Select(k => new Tagged { Key = k, Batch = b, Vector = VectorOf(k + b) }));
            }
            done.Cancel();
        });
        async Task Reader(int seed)
        {
            var random = new Random(seed);
            int checks = 0;
            while (!done.IsCancellationRequested || checks == 0)
            {
                float[] query = VectorOf(random.Next(0, batches * BatchSize));
                var hits = await collection.SearchAsync(query, top: 10, new() { IncludeVectors = true }).ToListAsync();
                foreach (var hit in hits)
                {
                    double exact = hit.Record.Vector.Zip(query, (a, q) => (double)(a - q) * (a - q)).Sum();
                    hit.Score!.Value.Should().BeApproximately(exact, 1e-3);
                }
                int batch = random.Next(0, batches);
                int count = await collection.GetAsync(r => r.Batch == batch, top: 1000).CountAsync();
                count.Should().BeOneOf([0, BatchSize], "a batch is applied entirely or not at all");
                checks++;
            }
        }

        await Task.WhenAll(writer, Reader(1), Reader(2), Reader(3));

        (await collection.GetAsync(r => true, top: 10_000).CountAsync()).Should().Be(batches / 2 * BatchSize);
    }
}
