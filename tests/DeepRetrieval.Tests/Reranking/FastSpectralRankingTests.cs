using System.Text.Json;
using DeepRetrieval.Reranking;

namespace DeepRetrieval.Tests.Reranking;

// Expected scores: U h(Λ) Uᵀ y from numpy's eigh of the S that diffusion-retrieval's code built under Octave
// (Reference/diffusion_reference.py), for the full rank (= the exact diffusion solution) and truncated ranks. Octave
// computed the similarities in single precision through BLAS, so S (and its eigenvalues) agree to about 1e-8.
public class FastSpectralRankingTests
{
    public static TheoryData<string, int> Ranks()
    {
        var data = new TheoryData<string, int>();
        foreach (JsonElement c in DiffusionTests.Fixture())
            foreach (JsonProperty rank in c.GetProperty("fsr").EnumerateObject())
                data.Add(c.GetProperty("name").GetString()!, int.Parse(rank.Name));
        return data;
    }

    [Theory]
    [MemberData(nameof(Ranks))]
    public void Rerank_MatchesTheEigendecompositionOfTheReferenceGraph(string name, int rank)
    {
        JsonElement c = DiffusionTests.Case(name);
        (MatrixDatabase database, float[] queries, int queryCount, int n) = DiffusionTests.Data(c);
        double[] expected = c.GetProperty("fsr").GetProperty(rank.ToString()).Doubles();
        double alpha = c.GetProperty("alpha").GetDouble();
        var graph = AffinityGraph.Build(database, c.GetProperty("k").GetInt32(), (float)c.GetProperty("gamma").GetDouble());
        var fsr = new FastSpectralRanking(graph, rank, c.GetProperty("kq").GetInt32(), alpha, krylovDimension: n);

        fsr.Eigenvalues.Should().Equal(c.GetProperty("eigenvalues").Doubles().Take(rank), (a, b) => Math.Abs(a - b) < 1e-6);
        RankedLists lists = fsr.Rerank(DiffusionTests.ExactState(database, queries, queryCount)).Lists;
        for (int q = 0; q < queryCount; q++)
        {
            double scale = Enumerable.Range(0, n).Max(i => Math.Abs(expected[q * n + i]));
            for (int r = 0; r < n; r++)
            {
                long id = lists.GetIds(q)[r];
                lists.GetScores(q)[r].Should().BeApproximately((float)expected[q * n + id], (float)(1e-5 * scale), $"query {q}, item {id}");
            }
        }
    }

    [Fact]
    public void Rerank_AtFullRank_RanksAsExactDiffusionDoes()
    {
        JsonElement c = DiffusionTests.Case("paper-parameters");
        (MatrixDatabase database, float[] queries, int queryCount, int n) = DiffusionTests.Data(c);
        var graph = AffinityGraph.Build(database, 10, 3f);
        var state = DiffusionTests.ExactState(database, queries, queryCount) with { OutputWidth = 10 };
        RankedLists fsr = new FastSpectralRanking(graph, n, 5, 0.99).Rerank(state).Lists;
        RankedLists diffusion = new Diffusion(graph, 5, 0.99, maxIterations: 500, tolerance: 1e-12).Rerank(state).Lists;
        fsr.Ids.Should().Equal(diffusion.Ids);
    }

    [Fact]
    public void Constructor_FindsRepeatedEigenvalues_WithTheDefaultKrylovSpace()
    {
        // The graph has several components, so the eigenvalue 1 is repeated: a single-vector Lanczos would find it once.
        JsonElement c = DiffusionTests.Case("isolated-nodes");
        (MatrixDatabase database, _, _, _) = DiffusionTests.Data(c);
        var graph = AffinityGraph.Build(database, c.GetProperty("k").GetInt32(), 3f);
        double[] expected = c.GetProperty("eigenvalues").Doubles();
        new FastSpectralRanking(graph, 8, 3, 0.95).Eigenvalues.Should().Equal(expected.Take(8), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void Constructor_RejectsARankAboveTheNodeCount()
    {
        var graph = AffinityGraph.Build(new MatrixDatabase(TestData.Gaussian(12, 3, seed: 5), 3), 3, 3f);
        FluentActions.Invoking(() => new FastSpectralRanking(graph, 13)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rank");
    }
}
