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
    public void Search_MarksMissingNeighbours_WhenKExceedsCount()
    {
        var index = new FlatIndex(2);
        index.Add([0f, 0f, 1f, 0f, 5f, 5f]);
        var result = index.Search([0f, 0f], 5);
        result.IdsOf(0).ToArray().Should().Equal(0L, 1L, 2L, -1L, -1L);
        result.DistancesOf(0)[..3].ToArray().Should().Equal(0f, 1f, 50f);
        float.IsNaN(result.DistancesOf(0)[3]).Should().BeTrue();
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
    public void Search_OnEmptyIndex_ReturnsOnlyMissing()
    {
        var result = new FlatIndex(3).Search([1f, 2f, 3f], 2);
        result.Ids.Should().Equal(-1L, -1L);
    }

    [Fact]
    public void Search_HonoursFilter()
    {
        var index = new FlatIndex(1);
        index.Add([0f, 1f, 2f, 3f, 4f]);
        var result = index.Search([0f], 2, new SearchOptions { Filter = id => id % 2 == 1 });
        result.IdsOf(0).ToArray().Should().Equal(1L, 3L);
    }

    [Fact]
    public void Search_WritesIntoCallerBuffers()
    {
        var index = new FlatIndex(1);
        index.Add([3f, 1f, 2f]);
        Span<long> ids = stackalloc long[2];
        Span<float> distances = stackalloc float[2];
        index.Search([0f], 2, ids, distances);
        ids.ToArray().Should().Equal(1L, 2L);
        distances.ToArray().Should().Equal(1f, 4f);
    }

    [Fact]
    public void RangeSearch_ReturnsEverythingWithinRadius()
    {
        var index = new FlatIndex(1);
        index.Add([0f, 1f, 2f, 3f], [10, 11, 12, 13]);
        RangeSearchResult result = index.RangeSearch([0f, 3f], 4.5f); // squared radius: |x| < 2.12
        result.IdsOf(0).ToArray().Should().Equal(10L, 11L, 12L);
        result.DistancesOf(0).ToArray().Should().Equal(0f, 1f, 4f);
        result.IdsOf(1).ToArray().Should().Equal(13L, 12L, 11L);
    }

    [Fact]
    public void RangeSearch_WithInnerProduct_UsesThreshold()
    {
        var index = new FlatIndex(2, Metric.InnerProduct);
        index.Add([1f, 0f, 0f, 1f, 2f, 2f]);
        var result = index.RangeSearch([1f, 1f], 1.5f);
        result.IdsOf(0).ToArray().Should().Equal(2L);
        result.DistancesOf(0).ToArray().Should().Equal(4f);
    }

    [Fact]
    public void Add_AutoIds_ContinuePastLargestIdEverUsed()
    {
        var index = new FlatIndex(1);
        index.Add([1f], [41]);
        index.Add([2f, 3f]).Should().Be(42);
        index.Remove([43]);
        index.Add([4f]).Should().Be(44); // ids are never reused
        index.Count.Should().Be(3);
    }

    [Fact]
    public void Remove_RemovesAndLeavesOthersSearchable()
    {
        var index = new FlatIndex(1);
        index.Add([0f, 1f, 2f, 3f]);
        index.Remove([0, 2, 0]).Should().Be(2);
        index.Count.Should().Be(2);
        index.Search([0f], 3).Ids.Should().Equal(1L, 3L, -1L);
        index.Contains(3).Should().BeTrue();
        index.Add([0f], [0]); // a removed id may be added again
        index.Search([0f], 1).Ids.Should().Equal(0L);
    }

    [Fact]
    public void Remove_UnknownId_ThrowsAndRemovesNothing()
    {
        var index = new FlatIndex(1);
        index.Add([0f, 1f]);
        var act = () => index.Remove([1, 99]);
        act.Should().Throw<KeyNotFoundException>().WithMessage("*99*nothing was removed*");
        index.Count.Should().Be(2);
    }

    [Fact]
    public void Reconstruct_ReturnsStoredVector_OrThrowsForUnknownId()
    {
        var index = new FlatIndex(2);
        index.Add([1f, 2f], [5]);
        var v = new float[2];
        index.Reconstruct(5, v);
        v.Should().Equal(1f, 2f);
        FluentActions.Invoking(() => index.Reconstruct(6, v)).Should().Throw<KeyNotFoundException>();
    }

    [Fact]
    public void BadInput_GetsClearExceptions()
    {
        var index = new FlatIndex(3);
        index.Add([1f, 2f, 3f]);
        FluentActions.Invoking(() => index.Add([1f, 2f])).Should().Throw<ArgumentException>().WithMessage("*dimension 3*");
        FluentActions.Invoking(() => index.Add([1f, float.NaN, 3f])).Should().Throw<ArgumentException>().WithMessage("*Row 0, component 1*NaN*");
        FluentActions.Invoking(() => index.Add([1f, 2f, float.PositiveInfinity])).Should().Throw<ArgumentException>().WithMessage("*finite*");
        FluentActions.Invoking(() => index.Search([1f, 2f, 3f], 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
        FluentActions.Invoking(() => index.Search([1f, 2f], 1)).Should().Throw<ArgumentException>().WithMessage("*dimension 3*");
        FluentActions.Invoking(() => index.Add([1f, 2f, 3f], [0])).Should().Throw<ArgumentException>().WithMessage("*already in the index*");
        FluentActions.Invoking(() => index.Add([1f, 2f, 3f, 4f, 5f, 6f], [7, 7])).Should().Throw<ArgumentException>().WithMessage("*twice*");
        FluentActions.Invoking(() => index.Add([1f, 2f, 3f], [-1])).Should().Throw<ArgumentException>().WithMessage("*non-negative*");
        FluentActions.Invoking(() => index.Add([1f, 2f, 3f], [1, 2])).Should().Throw<ArgumentException>().WithMessage("*1 vectors but 2 ids*");
        FluentActions.Invoking(() => index.RangeSearch([1f, 2f, 3f], float.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.SetSearchParameter("ef", 10)).Should().Throw<ArgumentException>().WithMessage("*no search parameter \"ef\"*");
        FluentActions.Invoking(() => new FlatIndex(2, Metric.Cosine).Add([0f, 0f])).Should().Throw<ArgumentException>().WithMessage("*zero vector*");
        FluentActions.Invoking(() => index.Search([1f, 2f, 3f], 1, new SearchOptions { MaxDegreeOfParallelism = -1 })).Should().Throw<ArgumentOutOfRangeException>();
        index.Count.Should().Be(1, "failed adds must leave the index unchanged");
    }

    [Fact]
    public void MemoryUsage_CoversVectorsAndIds()
    {
        var index = new FlatIndex(8);
        index.Add(TestData.Gaussian(100, 8, 3));
        index.MemoryUsageBytes.Should().BeGreaterThanOrEqualTo(100 * (8 * 4 + 8));
    }
}
