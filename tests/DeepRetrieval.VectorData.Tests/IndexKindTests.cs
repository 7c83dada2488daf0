using DeepRetrieval.Indexes;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// The abstraction's index kinds and factory descriptions: each finds the conformance suite's record, and the trained kinds
/// stay exact until the training threshold, then switch to their index and keep answering (recall measured against exact search).
/// </summary>
public sealed class IndexKindTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(IndexKind.Flat)]
    [InlineData(IndexKind.Hnsw)]
    [InlineData(IndexKind.IvfFlat)]
    [InlineData(IndexKind.QuantizedFlat)]
    [InlineData(IndexKind.Dynamic)]
    [InlineData("HNSW16,SQ8")]
    [InlineData("IVF4,PQ1x4,RFlat")]
    public async Task EachKind_FindsTheNearestRecord(string indexKind)
    {
        using var store = new DeepRetrievalVectorStore(_folder.Path);
        using var collection = store.GetCollection<int, SearchRecord<int>>("kinds", Definitions.Search<int>(3, DistanceFunction.EuclideanDistance, indexKind));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([
            new SearchRecord<int> { Key = 1, Int = 1, Vector = new([1, 2, 3]) },
            new SearchRecord<int> { Key = 2, Int = 2, Vector = new([10, 30, 50]) },
            new SearchRecord<int> { Key = 3, Int = 3, Vector = new([100, 40, 70]) },
        ]);

        var result = await collection.SearchAsync(new ReadOnlyMemory<float>([10, 30, 50]), top: 1).SingleAsync();

        result.Record.Int.Should().Be(2);
        result.Score.Should().Be(0);
    }

    [Theory]
    [InlineData(IndexKind.IvfFlat, "IVF")]
    [InlineData(IndexKind.QuantizedFlat, "SQ")]
    [InlineData(IndexKind.Dynamic, "HNSW")]
    [InlineData("IVF8,SQ8", "IVF")]
    public async Task TrainedKinds_AreExactUntilTheThreshold_ThenSwitch_AndKeepRecall(string indexKind, string trainedKind)
    {
        var options = new DeepRetrievalVectorStoreOptions { Storage = { TrainingThreshold = 500 } };
        if (indexKind == "IVF8,SQ8") options.Storage.SearchParameters = new Dictionary<string, double> { ["nprobe"] = 3 };
        using var store = new DeepRetrievalVectorStore(_folder.Path, options);
        using var collection = store.GetCollection<int, SearchRecord<int>>("trained", Definitions.Search<int>(8, DistanceFunction.EuclideanSquaredDistance, indexKind));
        await collection.EnsureCollectionExistsAsync();
        var random = new Random(7);
        float[][] vectors = Enumerable.Range(0, 1000).Select(_ => Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var records = vectors.Select((v, i) => new SearchRecord<int> { Key = i, Int = i, Vector = v }).ToList();

        await collection.UpsertAsync(records.Take(499));
        IndexOf(collection).Kind.Should().Be(FlatIndex.KindName, "below the threshold the column is searched exactly");
        await collection.UpsertAsync(records.Skip(499));
        IndexOf(collection).Kind.Should().Be(trainedKind);

        // Recall@10 of 50 queries against brute force over the same vectors.
        int found = 0;
        for (int q = 0; q < 50; q++)
        {
            float[] query = vectors[q * 7];
            var exact = vectors.Select((v, i) => (i, d: v.Zip(query, (a, b) => (a - b) * (a - b)).Sum())).OrderBy(p => p.d).Take(10).Select(p => p.i).ToHashSet();
            var got = await collection.SearchAsync(query, top: 10).Select(r => r.Record.Key).ToListAsync();
            found += got.Count(exact.Contains);
        }
        (found / 500.0).Should().BeGreaterThan(0.8);
    }

    [Fact]
    public void UnsupportedKinds_AreRejected_WhenTheCollectionIsDefined()
    {
        using var store = new DeepRetrievalVectorStore(_folder.Path);

        Action diskAnn = () => store.GetCollection<int, SearchRecord<int>>("a", Definitions.Search<int>(3, null, IndexKind.DiskAnn));
        Action nonsense = () => store.GetCollection<int, SearchRecord<int>>("b", Definitions.Search<int>(3, null, "HNSW32,Bogus"));
        Action pqMisfit = () => store.GetCollection<int, SearchRecord<int>>("c", Definitions.Search<int>(3, null, "PQ2"));

        diskAnn.Should().Throw<NotSupportedException>().WithMessage("*DiskAnn*");
        nonsense.Should().Throw<NotSupportedException>().WithMessage("*Bogus*");
        pqMisfit.Should().Throw<NotSupportedException>();
    }

    [Fact]
    public void IvfListCount_FollowsFaissGuidance()
    {
        // min(4√N, N/39) rounded down to a power of two: N = 10,000 → min(400, 256.4) → 256; N = 1,000,000 → min(4000, 25641) → 2048.
        IndexPlan.AutomaticListCount(10_000).Should().Be(256);
        IndexPlan.AutomaticListCount(1_000_000).Should().Be(2048);
        IndexPlan.AutomaticListCount(10).Should().Be(1);
    }

    private static IVectorIndex IndexOf<TKey, TRecord>(DeepRetrievalCollection<TKey, TRecord> collection)
        where TKey : notnull
        where TRecord : class
        => TestAccess.Table(collection).GetIndex(0);
}
