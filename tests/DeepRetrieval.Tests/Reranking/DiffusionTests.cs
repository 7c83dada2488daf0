using System.Text.Json;
using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

// Expected scores: ahmetius/diffusion-retrieval's knngraph/transition_matrix/ymake/dfs run under Octave by
// Reference/diffusion_reference.py; FSR scores from numpy's eigh of the same S.
public class DiffusionTests
{
    public static TheoryData<string> Cases() => new(Fixture().Select(c => c.GetProperty("name").GetString()!));

    internal static JsonElement[] Fixture() => ReferenceFixture.ReadJson("diffusion_cases.json").EnumerateArray().ToArray();

    internal static JsonElement Case(string name) => Fixture().Single(c => c.GetProperty("name").GetString() == name);

    internal static (MatrixDatabase Database, float[] Queries, int QueryCount, int Count) Data(JsonElement c)
    {
        int d = c.GetProperty("dimension").GetInt32();
        float[] x = c.GetProperty("database").Floats(), q = c.GetProperty("queries").Floats();
        return (new MatrixDatabase(x, d), q, q.Length / d, x.Length / d);
    }

    internal static RerankingState ExactState(MatrixDatabase database, float[] queries, int queryCount)
    {
        int n = database.RowCount;
        var ids = new long[queryCount * n];
        var scores = new float[ids.Length];
        database.Search(queries, n, ids, scores);
        return new RerankingState(queries, database, RankedLists.FromSearch(queryCount, n, ids, scores, database.Metric));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rerank_MatchesTheAuthorsMatlabCode(string name)
    {
        JsonElement c = Case(name);
        (MatrixDatabase database, float[] queries, int queryCount, int n) = Data(c);
        double[] expected = c.GetProperty("scores").Doubles();
        var diffusion = new Diffusion(c.GetProperty("k").GetInt32(), c.GetProperty("kq").GetInt32(), (float)c.GetProperty("gamma").GetDouble(),
            c.GetProperty("alpha").GetDouble(), c.GetProperty("iterations").GetInt32(), c.GetProperty("tolerance").GetDouble());

        RankedLists lists = diffusion.Rerank(ExactState(database, queries, queryCount)).Lists;

        lists.Order.Should().Be(ScoreOrder.LargerIsBetter);
        for (int q = 0; q < queryCount; q++)
        {
            double scale = Enumerable.Range(0, n).Max(i => expected[q * n + i]);
            for (int r = 0; r < n; r++)
            {
                long id = lists.GetIds(q)[r];
                lists.GetScores(q)[r].Should().BeApproximately((float)expected[q * n + id], (float)(2e-5 * scale), $"query {q}, item {id}");
            }

            // Same order as MATLAB's stable descending sort: by score, ties (the unreached zeros) by row.
            var order = Enumerable.Range(0, n).OrderByDescending(i => Math.Round(expected[q * n + i] / scale, 5)).ThenBy(i => i).Select(i => (long)i).ToArray();
            var zeros = order.Where(i => expected[q * n + i] == 0).ToArray();
            lists.GetIds(q).ToArray()[^zeros.Length..].Should().Equal(zeros, "items diffusion never reaches come last, by row");
        }
    }

    [Fact]
    public void Rerank_SolvesAHandWorkedGraph()
    {
        // e0, e1, e2 and x3 = (0.6, 0.8, 0); with k = 2 (itself and one other) only x3 and e1 list each other,
        // so S holds the single edge x3–e1 with weight 1. The query (0.8, 0.6, 0) seeds y = 0.96 at x3 and 0.8 at e0
        // (γ = 1). With α = 0.5: f3 − f1/2 = 0.96 and f1 − f3/2 = 0 give f3 = 1.28, f1 = 0.64; e0 keeps 0.8; e2 is 0.
        float[] x = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.6f, 0.8f, 0];
        var database = new MatrixDatabase(x, 3);
        float[] query = [0.8f, 0.6f, 0];
        RankedLists lists = new Diffusion(graphNeighbors: 2, queryNeighbors: 2, gamma: 1, alpha: 0.5).Rerank(ExactState(database, query, 1)).Lists;

        lists.GetIds(0).ToArray().Should().Equal(3, 0, 1, 2);
        lists.GetScores(0).ToArray().Should().Equal([1.28f, 0.8f, 0.64f, 0f], (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void Constructor_RejectsParametersOutsideTheirRanges()
    {
        FluentActions.Invoking(() => new Diffusion(alpha: 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alpha");
        FluentActions.Invoking(() => new Diffusion(graphNeighbors: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("graphNeighbors");
        FluentActions.Invoking(() => new Diffusion(gamma: float.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("gamma");
        FluentActions.Invoking(() => new Diffusion(tolerance: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("tolerance");
    }

    [Fact]
    public void Rerank_Throws_WhenTheListsAreNarrowerThanTheQueryNeighbors()
    {
        var database = new MatrixDatabase(TestData.Gaussian(20, 4, seed: 3), 4);
        float[] query = TestData.Gaussian(1, 4, seed: 4);
        var ids = new long[5];
        var scores = new float[5];
        database.Search(query, 5, ids, scores);
        var state = new RerankingState(query, database, RankedLists.FromSearch(1, 5, ids, scores, database.Metric));
        FluentActions.Invoking(() => new Diffusion(graphNeighbors: 4, queryNeighbors: 10).Rerank(state))
            .Should().Throw<ArgumentException>().WithParameterName("QueryNeighbors");
        FluentActions.Invoking(() => new Diffusion(graphNeighbors: 21).Rerank(state))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("neighbors");
    }
}
