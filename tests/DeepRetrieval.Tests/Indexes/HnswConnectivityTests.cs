using DeepRetrieval.Indexes;
using FluentAssertions;

namespace DeepRetrieval.Tests.Indexes;

public class HnswConnectivityTests
{
    // M = 2 keeps at most 4 links per node on layer 0; with tight clusters the heuristic prunes aggressively and
    // strands nodes: the conditions under which a real graph loses reachability, made frequent.
    private static HnswIndex Fragile(bool repair, int threads)
    {
        var index = new HnswIndex(8, Metric.L2, m: 2, efConstruction: 8) { RepairAfterAdd = repair, BuildThreads = threads };
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
