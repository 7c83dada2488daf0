using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// The conformance suite's hybrid search cases (identical vectors, so the keyword side decides), and BM25 scores worked out by
/// hand from Okapi BM25 with k1 = 1.2, b = 0.75 and Lucene's idf.
/// </summary>
public sealed class HybridSearchTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private DeepRetrievalVectorStore _store = null!;
    private DeepRetrievalCollection<int, TextRecord> _texts = null!;
    private DeepRetrievalCollection<int, TwoTextRecord> _twoTexts = null!;

    public sealed class TextRecord
    {
        [VectorStoreKey] public int Key { get; set; }
        [VectorStoreData(IsFullTextIndexed = true)] public string Text { get; set; } = "";
        [VectorStoreData(IsIndexed = true)] public int Code { get; set; }
        [VectorStoreVector(4)] public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class TwoTextRecord
    {
        [VectorStoreKey] public int Key { get; set; }
        [VectorStoreData(IsFullTextIndexed = true)] public string Text1 { get; set; } = "";
        [VectorStoreData(IsFullTextIndexed = true)] public string Text2 { get; set; } = "";
        [VectorStoreData] public int Code { get; set; }
        [VectorStoreVector(4)] public ReadOnlyMemory<float> Vector { get; set; }
    }

    private static readonly ReadOnlyMemory<float> Vector = new([1, 0, 0, 0]);

    public async Task InitializeAsync()
    {
        _store = new DeepRetrievalVectorStore(_folder.Path);
        _texts = _store.GetCollection<int, TextRecord>("texts");
        _twoTexts = _store.GetCollection<int, TwoTextRecord>("two");
        await _texts.EnsureCollectionExistsAsync();
        await _twoTexts.EnsureCollectionExistsAsync();
        await _texts.UpsertAsync([
            new TextRecord { Key = 1, Code = 1, Text = "Apples are a healthy and nourishing snack", Vector = Vector },
            new TextRecord { Key = 2, Code = 2, Text = "Oranges are tangy and contain vitamin c", Vector = Vector },
            new TextRecord { Key = 3, Code = 3, Text = "Grapes are healthy, sweet and juicy", Vector = Vector },
        ]);
        await _twoTexts.UpsertAsync([
            new TwoTextRecord { Key = 1, Code = 1, Text1 = "Apples", Text2 = "Oranges", Vector = Vector },
            new TwoTextRecord { Key = 2, Code = 2, Text1 = "Oranges", Text2 = "Apples", Vector = Vector },
        ]);
    }

    public Task DisposeAsync()
    {
        _texts.Dispose();
        _twoTexts.Dispose();
        _store.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TheKeywordMatch_RanksFirst()
    {
        var results = await _texts.HybridSearchAsync(Vector, ["Grapes"], top: 3).ToListAsync();

        results.Select(r => r.Record.Code).Should().Equal(3, 1, 2);
        // Vector ranks tie (identical vectors: one shared rank 1); record 3 adds keyword rank 1: 1/61 + 1/61.
        results[0].Score!.Value.Should().BeApproximately(2.0 / 61, 1e-12);
        results[1].Score!.Value.Should().BeApproximately(1.0 / 61, 1e-12);
    }

    [Fact]
    public async Task Filter_Top_And_Skip_Apply()
    {
        (await _texts.HybridSearchAsync(Vector, ["Oranges"], top: 3, new() { Filter = r => r.Code == 1 }).Select(r => r.Record.Code).ToListAsync()).Should().Equal(1);
        (await _texts.HybridSearchAsync(Vector, ["Oranges"], top: 1).Select(r => r.Record.Code).ToListAsync()).Should().Equal(2);
        (await _texts.HybridSearchAsync(Vector, ["healthy"], top: 3, new() { Skip = 2 }).Select(r => r.Record.Code).ToListAsync()).Should().Equal(2);
    }

    [Fact]
    public async Task SeveralKeywords_RankEveryMatchAboveTheRest()
    {
        var results = await _texts.HybridSearchAsync(Vector, ["tangy", "nourishing"], top: 3).Select(r => r.Record.Code).ToListAsync();

        results.Take(2).Should().BeEquivalentTo([1, 2]);
        results[2].Should().Be(3);
    }

    [Fact]
    public async Task TheTextProperty_IsChosenByOptions_AndRequiredWhenThereAreSeveral()
    {
        (await _twoTexts.HybridSearchAsync(Vector, ["Apples"], top: 4, new() { AdditionalProperty = r => r.Text2 }).Select(r => r.Record.Code).ToListAsync()).Should().Equal(2, 1);
        (await _twoTexts.HybridSearchAsync(Vector, ["Oranges"], top: 4, new() { AdditionalProperty = r => r.Text2 }).Select(r => r.Record.Code).ToListAsync()).Should().Equal(1, 2);

        Func<Task> unspecified = () => _twoTexts.HybridSearchAsync(Vector, ["Apples"], top: 3).ToListAsync().AsTask();
        await unspecified.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task TextUpdatesAndDeletes_ReachTheKeywordIndex()
    {
        await _texts.UpsertAsync(new TextRecord { Key = 3, Code = 3, Text = "no fruit here", Vector = Vector });
        await _texts.DeleteAsync(1);

        var results = await _texts.HybridSearchAsync(Vector, ["healthy", "fruit"], top: 3).Select(r => r.Record.Code).ToListAsync();

        results.Should().Equal(3, 2);
    }

    [Fact]
    public void Bm25_MatchesHandComputedScores()
    {
        // Documents "a b", "a a c", "c": N = 3, average length 2, n(a) = n(c) = 2, idf = ln(1 + 1.5 / 2.5) = ln 1.6.
        var index = new FullTextIndex();
        index.Add(1, "a b");
        index.Add(2, "A, a; c");
        index.Add(3, "c");

        var a = index.Search(["a"], 10, null);
        var both = index.Search(["a", "c", "a"], 10, null);
        var filtered = index.Search(["c"], 10, id => id != 3);

        a.Select(h => h.Id).Should().Equal(2, 1);
        a[0].Score.Should().BeApproximately(0.5665797174469143, 1e-12); // ln1.6 · 2·2.2 / (2 + 1.2·(0.25 + 0.75·3/2))
        a[1].Score.Should().BeApproximately(0.47000362924573563, 1e-12); // ln1.6 · 2.2 / (1 + 1.2)
        both[0].Id.Should().Be(2);
        both[0].Score.Should().BeApproximately(0.9567714096509212, 1e-12); // a and c both in document 2
        both[1].Id.Should().Be(3);
        both[1].Score.Should().BeApproximately(0.5908617053374963, 1e-12);
        filtered.Select(h => h.Id).Should().Equal(2);
        FullTextIndex.Tokenize("Grapes are healthy, sweet-and-JUICY!").Should().Equal("grapes", "are", "healthy", "sweet", "and", "juicy");
    }
}
