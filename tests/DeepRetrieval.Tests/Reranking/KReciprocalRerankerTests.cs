using System.Text.Json;
using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

public class KReciprocalRerankerTests
{
    public static TheoryData<string> Cases() => new(ReferenceFixture.ReadJson("kreciprocal_cases.json").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static JsonElement Case(string name) =>
        ReferenceFixture.ReadJson("kreciprocal_cases.json").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    // Expected distances: zhunzhong07/person-re-ranking python-version/re_ranking_ranklist.py run by Reference/kreciprocal_reference.py.
    [Theory]
    [MemberData(nameof(Cases))]
    public void Rerank_MatchesTheAuthorsReferenceImplementation(string name)
    {
        JsonElement c = Case(name);
        int d = c.GetProperty("dimension").GetInt32();
        float[] queries = c.GetProperty("queries").Floats(), gallery = c.GetProperty("gallery").Floats();
        double[] expected = c.GetProperty("distances").Doubles();
        int q = queries.Length / d, g = gallery.Length / d;
        var reranker = new KReciprocalReranker(c.GetProperty("k1").GetInt32(), c.GetProperty("k2").GetInt32(), (float)c.GetProperty("lambda").GetDouble());

        RankedLists lists;
        if (c.GetProperty("queriesFromGallery").GetBoolean())
        {
            // The reference ranked database items q.. for the first q items; here the whole database is ranked.
            var database = new MatrixDatabase([.. queries, .. gallery], d);
            lists = reranker.RerankDatabaseItems(database, Enumerable.Range(0, q).Select(i => (long)i).ToArray(), q + g);
            for (int i = 0; i < q; i++)
            {
                var byId = Zip(lists, i);
                byId[i].Should().BeApproximately(0f, 1e-6f, "a query is at final distance 0 from itself");
                for (int j = 0; j < g; j++)
                    byId[q + j].Should().BeApproximately((float)expected[i * g + j], 2e-5f, $"query {i}, database item {q + j}");
            }

            return;
        }

        var state = new RerankingState(queries, new MatrixDatabase(gallery, d), InitialLists(q, g)) { OutputWidth = g };
        lists = reranker.Rerank(state).Lists;
        lists.Order.Should().Be(ScoreOrder.SmallerIsBetter);
        for (int i = 0; i < q; i++)
        {
            var byId = Zip(lists, i);
            byId.Should().HaveCount(g);
            for (int j = 0; j < g; j++)
                byId[j].Should().BeApproximately((float)expected[i * g + j], 2e-5f, $"query {i}, gallery {j}");
            var expectedOrder = Enumerable.Range(0, g).OrderBy(j => expected[i * g + j]).ThenBy(j => j).Select(j => (long)j);
            lists.GetIds(i).ToArray().Should().Equal(expectedOrder, $"query {i} ranks as the reference's distances do");
        }
    }

    [Fact]
    public void Rerank_ReturnsTheReferenceTopK_WhenTheOutputIsNarrowerThanTheDatabase()
    {
        JsonElement c = Case("paper-like");
        int d = c.GetProperty("dimension").GetInt32();
        float[] queries = c.GetProperty("queries").Floats(), gallery = c.GetProperty("gallery").Floats();
        double[] expected = c.GetProperty("distances").Doubles();
        int q = queries.Length / d, g = gallery.Length / d;
        var state = new RerankingState(queries, new MatrixDatabase(gallery, d), InitialLists(q, g)) { OutputWidth = 5 };

        RankedLists lists = new KReciprocalReranker(6, 3, 0.3f).Rerank(state).Lists;

        lists.Width.Should().Be(5);
        for (int i = 0; i < q; i++)
        {
            var best = Enumerable.Range(0, g).OrderBy(j => expected[i * g + j]).ThenBy(j => j).Take(5).Select(j => (long)j);
            lists.GetIds(i).ToArray().Should().Equal(best);
        }
    }

    [Fact]
    public void Constructor_RejectsParametersOutsideTheirRanges()
    {
        FluentActions.Invoking(() => new KReciprocalReranker(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k1");
        FluentActions.Invoking(() => new KReciprocalReranker(4, 6)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k2");
        FluentActions.Invoking(() => new KReciprocalReranker(4, 2, 1.5f)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lambda");
        FluentActions.Invoking(() => new KReciprocalReranker(4, 2, float.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lambda");
    }

    [Fact]
    public void Rerank_Throws_WhenK1ExceedsTheNodes()
    {
        float[] gallery = TestData.Gaussian(4, 3, seed: 1);
        var state = new RerankingState(TestData.Gaussian(1, 3, seed: 2), new MatrixDatabase(gallery, 3), InitialLists(1, 4));
        FluentActions.Invoking(() => new KReciprocalReranker(k1: 5, k2: 2).Rerank(state))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("K1");
    }

    [Fact]
    public void RerankDatabaseItems_Throws_WhenAQueryIdIsNotInTheDatabase()
    {
        var database = new MatrixDatabase(TestData.Gaussian(10, 3, seed: 1), 3);
        FluentActions.Invoking(() => new KReciprocalReranker(3, 2).RerankDatabaseItems(database, [2, 10], 5))
            .Should().Throw<ArgumentException>().WithParameterName("queryIds").WithMessage("*10*");
        FluentActions.Invoking(() => new KReciprocalReranker(3, 2).RerankDatabaseItems(database, [2], 11))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("outputWidth");
    }

    private static Dictionary<long, float> Zip(RankedLists lists, int query)
    {
        var result = new Dictionary<long, float>();
        ReadOnlySpan<long> ids = lists.GetIds(query);
        ReadOnlySpan<float> scores = lists.GetScores(query);
        for (int r = 0; r < ids.Length; r++) result.Add(ids[r], scores[r]);
        return result;
    }

    // k-reciprocal re-ranking computes its own distances; any initial lists of the right shape will do.
    private static RankedLists InitialLists(int queries, int gallery)
    {
        var ids = new long[queries * gallery];
        for (int i = 0; i < ids.Length; i++) ids[i] = i % gallery;
        return new RankedLists(queries, gallery, ids, new float[ids.Length], ScoreOrder.SmallerIsBetter);
    }
}
