using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// The conformance suite's distance-function cases: a base vector (1,0,0,0), its opposite and an orthogonal (0,−1,−1,0),
/// searched with the base. Expected scores worked out by hand: cosine similarity 1, −1, 0; cosine distance 0, 2, 1; dot
/// product 1, −1, 0; negative dot product −1, 1, 0; Euclidean 0, 2, √3; squared Euclidean 0, 4, 3. Run on the exact and the
/// HNSW index.
/// </summary>
public sealed class DistanceFunctionTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly DeepRetrievalVectorStore _store;

    public DistanceFunctionTests() => _store = new DeepRetrievalVectorStore(_folder.Path);

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    public static TheoryData<string, string, double, double, double, int[]> Cases()
    {
        var data = new TheoryData<string, string, double, double, double, int[]>();
        foreach (string kind in new[] { IndexKind.Flat, IndexKind.Hnsw })
        {
            data.Add(kind, DistanceFunction.CosineSimilarity, 1, -1, 0, [0, 2, 1]);
            data.Add(kind, DistanceFunction.CosineDistance, 0, 2, 1, [0, 2, 1]);
            data.Add(kind, DistanceFunction.DotProductSimilarity, 1, -1, 0, [0, 2, 1]);
            data.Add(kind, DistanceFunction.NegativeDotProductSimilarity, -1, 1, 0, [0, 2, 1]);
            data.Add(kind, DistanceFunction.EuclideanDistance, 0, 2, Math.Sqrt(3), [0, 2, 1]);
            data.Add(kind, DistanceFunction.EuclideanSquaredDistance, 0, 4, 3, [0, 2, 1]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Search_ReportsScoresInTheAbstractionsConvention(string indexKind, string distanceFunction, double exact, double opposite, double orthogonal, int[] order)
    {
        using var collection = _store.GetCollection<int, SearchRecord<int>>($"{indexKind}-{distanceFunction}", Definitions.Search<int>(4, distanceFunction, indexKind));
        await collection.EnsureCollectionExistsAsync();
        SearchRecord<int>[] records =
        [
            new() { Key = 1, Int = 1, Vector = new([1, 0, 0, 0]) },
            new() { Key = 2, Int = 2, Vector = new([-1, 0, 0, 0]) },
            new() { Key = 3, Int = 3, Vector = new([0, -1, -1, 0]) },
        ];
        double[] scores = [exact, opposite, orthogonal];
        await collection.UpsertAsync(records);

        var results = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 0, 0, 0]), top: 3).ToListAsync();

        results.Select(r => r.Record.Key).Should().Equal(order.Select(i => records[i].Key));
        for (int i = 0; i < 3; i++) results[i].Score!.Value.Should().BeApproximately(scores[order[i]], 1e-5);

        // A threshold at the second score keeps the first two (inclusive), in the function's direction.
        var thresholded = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 0, 0, 0]), top: 3, new() { ScoreThreshold = results[1].Score }).ToListAsync();
        thresholded.Select(r => r.Record.Key).Should().Equal(results.Take(2).Select(r => r.Record.Key));
    }

    [Theory]
    [InlineData(DistanceFunction.HammingDistance)]
    [InlineData(DistanceFunction.ManhattanDistance)]
    [InlineData("Chebyshev")]
    public void UnsupportedDistanceFunctions_AreRejected_WhenTheCollectionIsDefined(string distanceFunction)
    {
        Action act = () => _store.GetCollection<int, SearchRecord<int>>("x", Definitions.Search<int>(4, distanceFunction));

        act.Should().Throw<NotSupportedException>().WithMessage($"*{distanceFunction}*");
    }

    [Fact]
    public async Task CosineSearch_RejectsAZeroVector_InRecordsAndQueries()
    {
        using var collection = _store.GetCollection<int, SearchRecord<int>>("cos", Definitions.Search<int>(2));
        await collection.EnsureCollectionExistsAsync();

        Func<Task> upsert = () => collection.UpsertAsync(new SearchRecord<int> { Key = 1, Vector = new([0, 0]) });
        Func<Task> search = () => collection.SearchAsync(new ReadOnlyMemory<float>([0, 0]), top: 1).ToListAsync().AsTask();

        (await upsert.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("zeros");
        await search.Should().ThrowAsync<ArgumentException>();
    }
}
