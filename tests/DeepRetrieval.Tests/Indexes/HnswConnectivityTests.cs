using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using FluentAssertions;

namespace DeepRetrieval.Tests.Indexes;

public class HnswConnectivityTests
{
    // M = 2 keeps at most 4 links per node on layer 0; with tight clusters the heuristic prunes aggressively and
    // strands nodes: the conditions under which a real graph loses reachability, made frequent.
    private static HnswIndex Fragile(bool repair, int threads)
    {
        var index = new HnswIndex(8, Metric.L2, m: 2, efConstruction: 8) { AutoRepair = repair, BuildThreads = threads };
        index.Add(TestData.Clustered(3000, 8, 300, 5));
        return index;
    }

    [Fact]
    public void FragileGraph_WithoutRepair_HasUnreachableNodes()
    {
        Fragile(repair: false, threads: 1).CountUnreachable().Should().BeGreaterThan(0, "the test graph must exercise the repair");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Add_RepairsConnectivity_SoEveryNodeIsReachable(int threads)
    {
        HnswIndex index = Fragile(repair: true, threads);
        index.CountUnreachable().Should().Be(0);
    }

    [Fact]
    public void RepairConnectivity_MakesEveryVectorFindable()
    {
        HnswIndex index = Fragile(repair: false, threads: 1);
        int stranded = index.CountUnreachable();
        index.RepairConnectivity().Should().BeGreaterThanOrEqualTo(stranded > 0 ? 1 : 0);
        index.CountUnreachable().Should().Be(0);

        float[] data = TestData.Clustered(3000, 8, 300, 5);
        var found = index.Search(data, 1, new HnswSearchOptions { Ef = 3000 });
        for (int i = 0; i < 3000; i++) found.Distances[i].Should().Be(0, $"vector {i} must be found at distance 0");
    }
}

public class HnswRemovalRepairTests
{
    private const int D = 16;

    [Fact]
    public void Remove_RelinksAroundRemovedNodes_KeepingEveryLiveNodeReachableAndFindable()
    {
        float[] data = TestData.Clustered(3000, D, 30, 9);
        var index = new HnswIndex(D, Metric.L2, m: 8, efConstruction: 64) { BuildThreads = 1 };
        index.Add(data);
        // Remove every third vector, the entry point's neighbourhood included, in two batches.
        long[] removed = Enumerable.Range(0, 3000).Where(i => i % 3 == 0).Select(i => (long)i).ToArray();
        index.Remove(removed.AsSpan(0, 500));
        index.Remove(removed.AsSpan(500));

        index.CountLinksToRemoved().Should().Be(0);
        index.CountUnreachable().Should().Be(0);
        index.Count.Should().Be(2000);
        var live = Enumerable.Range(0, 3000).Where(i => i % 3 != 0).ToArray();
        float[] queries = live.SelectMany(i => data.AsSpan(i * D, D).ToArray()).ToArray();
        SearchResult found = index.Search(queries, 1, new HnswSearchOptions { Ef = 64 });
        int exact = 0;
        for (int q = 0; q < live.Length; q++) if (found.Distances[q] == 0) exact++;
        ((double)exact / live.Length).Should().BeGreaterThan(0.99, "each live vector finds itself (or an identical one)");
        found.Ids.Should().NotContain(id => id % 3 == 0);
    }

    [Fact]
    public void Remove_TheEntryPoint_HandsOverToALiveNode()
    {
        float[] data = TestData.Clustered(500, D, 10, 10);
        var index = new HnswIndex(D, Metric.L2, m: 8) { BuildThreads = 1 };
        index.Add(data);
        index.Remove(Enumerable.Range(0, 499).Select(i => (long)i).ToArray());
        index.Search(data.AsSpan(499 * D, D), 1).Ids.Should().Equal(499L);
        index.Remove([499L]);
        index.Search(data.AsSpan(0, D), 1).Ids.Should().Equal(SearchResult.MissingId);
        index.Add(data.AsSpan(0, D), [7L]);
        index.Search(data.AsSpan(0, D), 1).Ids.Should().Equal(7L);
    }
}
