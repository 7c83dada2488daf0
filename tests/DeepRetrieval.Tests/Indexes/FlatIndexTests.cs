using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests.Indexes;

public class FlatIndexTests
{
    // Brute force with the scalar reference: the ground truth the blocked kernel must reproduce.
    private static (long[] Ids, float[] Distances) BruteForce(float[] data, long[] ids, float[] queries, int d, int k, Metric metric)
    {
        int n = data.Length / d, nq = queries.Length / d;
        var outIds = new long[nq * k];
        var outDistances = new float[nq * k];
        for (int q = 0; q < nq; q++)
        {
            var scored = new List<(float Key, long Id, float Value)>();
            for (int i = 0; i < n; i++)
            {
                var x = data.AsSpan(i * d, d);
                var y = queries.AsSpan(q * d, d);
                float value = metric switch
                {
                    Metric.L2 => ScalarDistance.SquaredL2(x, y),
                    Metric.InnerProduct => ScalarDistance.InnerProduct(x, y),
                    _ => ScalarDistance.Cosine(x, y),
                };
                scored.Add((metric == Metric.L2 ? value : -value, ids[i], value));
            }
            var top = scored.OrderBy(s => s.Key).ThenBy(s => s.Id).Take(k).ToArray();
            for (int j = 0; j < k; j++)
            {
                outIds[q * k + j] = j < top.Length ? top[j].Id : -1;
                outDistances[q * k + j] = j < top.Length ? top[j].Value : float.NaN;
            }
        }
        return (outIds, outDistances);
    }

    [Theory]
    [InlineData(Metric.L2, 16, 1)]
    [InlineData(Metric.L2, 37, 2)]
    [InlineData(Metric.InnerProduct, 64, 1)]
    [InlineData(Metric.Cosine, 20, 2)]
    [InlineData(Metric.L2, 3, 1)]
    public void Search_ReturnsExactNeighbours(Metric metric, int d, int threads)
    {
        // 1000 rows span several base tiles; 70 queries span two query blocks with a ragged tail.
        float[] data = TestData.Gaussian(1000, d, 1);
        float[] queries = TestData.Gaussian(70, d, 2);
        var index = new FlatIndex(d, metric);
        long[] ids = Enumerable.Range(0, 1000).Select(i => 10L * i + 3).ToArray();
        index.Add(data, ids);

        SearchResult result = index.Search(queries, 10, new SearchOptions { MaxDegreeOfParallelism = threads });

        var (expectedIds, expectedDistances) = BruteForce(data, ids, queries, d, 10, metric);
        int mismatches = 0;
        for (int i = 0; i < expectedIds.Length; i++)
        {
            if (result.Ids[i] != expectedIds[i])
            {
                // Only a near-tie may swap order (float rounding of ‖x‖² − 2q·x).
                Math.Abs(result.Distances[i] - expectedDistances[i]).Should().BeLessThan(1e-3f * Math.Max(1f, Math.Abs(expectedDistances[i])));
                mismatches++;
            }
            result.Distances[i].Should().BeApproximately(expectedDistances[i], 1e-3f * Math.Max(1f, Math.Abs(expectedDistances[i])));
        }
        mismatches.Should().BeLessThan(3);
    }

    [Fact]
    public void Search_BatchedAndSingle_AgreeWithBruteForce_ForLargeKWithFilter()
    {
        const int d = 24;
        float[] data = TestData.Clustered(1100, d, 7, 5);
        float[] queries = TestData.Clustered(20, d, 7, 6);
        var index = new FlatIndex(d);
        index.Add(data);
        var options = new SearchOptions { Filter = id => id % 3 != 0, MaxDegreeOfParallelism = 2 };

        SearchResult batched = index.Search(queries, 300, options);

        long[] keptIds = Enumerable.Range(0, 1100).Where(i => i % 3 != 0).Select(i => (long)i).ToArray();
        float[] kept = keptIds.SelectMany(i => data.AsSpan((int)i * d, d).ToArray()).ToArray();
        var (expectedIds, _) = BruteForce(kept, keptIds, queries, d, 300, Metric.L2);
        for (int q = 0; q < 20; q++)
        {
            batched.IdsOf(q).ToArray().Should().BeEquivalentTo(expectedIds.AsSpan(q * 300, 300).ToArray(), "query {0}", q);
            var single = index.Search(queries.AsSpan(q * d, d), 300, options);
            single.Ids.Should().Equal(batched.IdsOf(q).ToArray(), "one query alone must give the batch's answer");
        }
    }

    [Fact]
    public void Search_OrdersDuplicatesAndTiesByAscendingId()
    {
        var index = new FlatIndex(2);
        // Four copies of one vector added in scrambled id order, and one vector at equal distance.
        index.Add([1f, 1f, 1f, 1f, 1f, 1f, -1f, -1f, 1f, 1f], [40, 7, 23, 5, 12]);
        var result = index.Search([0f, 0f], 5);
        result.IdsOf(0).ToArray().Should().Equal(5L, 7L, 12L, 23L, 40L);
        result.DistancesOf(0).ToArray().Should().AllBeEquivalentTo(2f);
    }

    [Fact]
    public void MemoryUsage_CoversVectorsAndIds()
    {
        var index = new FlatIndex(8);
        index.Add(TestData.Gaussian(100, 8, 3));
        index.MemoryUsageBytes.Should().BeGreaterThanOrEqualTo(100 * (8 * 4 + 8));
    }
}
