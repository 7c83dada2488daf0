using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

public class PrunedCentroidSearchTests
{
    private const int D = 512;
    private const int Lists = 512;

    // Centroid-like points around 20 cluster centres, and 300 queries from the same clusters.
    private static readonly float[] All = TestData.Clustered(Lists + 300, D, 20, 57);
    private static readonly float[] Centroids = All[..(Lists * D)];

    private static (long[] Ids, float[] Keys) FullScan(ReadOnlySpan<float> query, int n, bool innerProduct)
    {
        var ids = new long[n];
        var keys = new float[n];
        var heap = new TopKHeap(keys, ids);
        for (int i = 0; i < Lists; i++)
        {
            ReadOnlySpan<float> centroid = Centroids.AsSpan(i * D, D);
            heap.Push(innerProduct ? -Distance.InnerProduct(query, centroid) : Distance.SquaredL2(query, centroid), i);
        }
        heap.SortAndPad();
        return (ids, keys);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 8)]
    [InlineData(false, 40)]
    [InlineData(true, 1)]
    [InlineData(true, 8)]
    [InlineData(true, 40)]
    public void Search_ReturnsExactlyTheFullScansCentroids(bool innerProduct, int n)
    {
        PrunedCentroidSearch search = PrunedCentroidSearch.TryCreate(Centroids, Lists, D, innerProduct)!;
        search.Should().NotBeNull();
        search.Rank.Should().Be(64);
        var ids = new long[n];
        var keys = new float[n];
        var scratch = new IvfScratch();
        for (int q = 0; q < 300; q++)
        {
            ReadOnlySpan<float> query = All.AsSpan((Lists + q) * D, D);
            search.Search(query, ids, keys, scratch);
            (long[] expectedIds, float[] expectedKeys) = FullScan(query, n, innerProduct);
            ids.Should().Equal(expectedIds, $"query {q}");
            keys.Should().Equal(expectedKeys, $"query {q}");
        }
    }

    [Fact]
    public void Search_AQueryFarOutsideTheCentroids_IsStillExact()
    {
        // The bound's rounding margin must hold where distances dwarf the centroids' spread.
        PrunedCentroidSearch search = PrunedCentroidSearch.TryCreate(Centroids, Lists, D, innerProduct: false)!;
        float[] query = All.AsSpan(Lists * D, D).ToArray();
        for (int j = 0; j < D; j++) query[j] = query[j] * 50 + 1000;
        var ids = new long[5];
        var keys = new float[5];
        search.Search(query, ids, keys, new IvfScratch());
        ids.Should().Equal(FullScan(query, 5, innerProduct: false).Ids);
    }

    [Fact]
    public void Search_MoreThanTheListCount_PadsWithMissing()
    {
        PrunedCentroidSearch search = PrunedCentroidSearch.TryCreate(Centroids, Lists, D, innerProduct: false)!;
        var ids = new long[Lists + 3];
        var keys = new float[Lists + 3];
        search.Search(All.AsSpan(Lists * D, D), ids, keys, new IvfScratch());
        ids.Take(Lists).Should().OnlyHaveUniqueItems().And.OnlyContain(id => id >= 0 && id < Lists);
        ids.Skip(Lists).Should().Equal(-1, -1, -1);
    }

    [Theory]
    [InlineData(255, 1024)] // too few lists
    [InlineData(1024, 128)] // half a megabyte of centroids: a full scan is as fast
    public void TryCreate_SmallTables_ScanInFull(int lists, int dimension)
    {
        PrunedCentroidSearch.TryCreate(TestData.Gaussian(lists, dimension, 3), lists, dimension, innerProduct: false)
            .Should().BeNull();
    }

    [Theory]
    [InlineData(Metric.L2, "Flat", 1)]
    [InlineData(Metric.L2, "Flat", 2)]
    [InlineData(Metric.InnerProduct, "Flat", 2)]
    [InlineData(Metric.Cosine, "Flat", 1)]
    [InlineData(Metric.L2, "SQ8", 2)]
    public void IvfIndex_Batch_EqualsOneQueryAtATime(Metric metric, string encoding, int threads)
    {
        // Batches find their lists with the same pruned coarse search as one query, and the list-major scan of raw
        // floats computes bit-identical keys, so a batch returns exactly what the queries return one at a time.
        float[] all = TestData.Clustered(6100, 256, 40, 5);
        float[] data = all[..(6000 * 256)];
        float[] queries = all[(6000 * 256)..];
        var index = new IvfIndex(256, 1024, metric, IvfEncoding.Parse(encoding)) { TrainingIterations = 4 };
        index.Train(data);
        index.Add(data);
        index.PrunesCoarseSearch.Should().BeTrue();
        var options = new IvfSearchOptions { Nprobe = 6, MaxDegreeOfParallelism = threads };
        SearchResult batch = index.Search(queries, 10, options);
        for (int q = 0; q < 100; q++)
        {
            SearchResult single = index.Search(queries.AsSpan(q * 256, 256), 10, options);
            single.Ids.Should().Equal(batch.IdsOf(q).ToArray(), $"query {q}");
            single.Distances.Should().Equal(batch.DistancesOf(q).ToArray(), $"query {q}");
        }
        // A filter is applied the same way in both.
        var filtered = new IvfSearchOptions { Nprobe = 6, MaxDegreeOfParallelism = threads, Filter = id => id % 3 == 0 };
        SearchResult filteredBatch = index.Search(queries, 10, filtered);
        for (int q = 0; q < 100; q += 7)
            index.Search(queries.AsSpan(q * 256, 256), 10, filtered).Ids.Should().Equal(filteredBatch.IdsOf(q).ToArray(), $"query {q}");
    }

    [Fact]
    public void IvfIndex_Loaded_RebuildsThePrunedSearch_WithIdenticalOneQueryResults()
    {
        float[] all = TestData.Clustered(5100, 256, 40, 8);
        var index = new IvfIndex(256, 1024, Metric.L2, IvfEncoding.Parse("SQ8")) { TrainingIterations = 4, Nprobe = 7 };
        index.Train(all.AsSpan(0, 5000 * 256));
        index.Add(all.AsSpan(0, 5000 * 256));
        var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        var loaded = (IvfIndex)IndexFile.Load(stream);
        loaded.PrunesCoarseSearch.Should().BeTrue();
        for (int q = 0; q < 100; q++)
        {
            ReadOnlySpan<float> query = all.AsSpan((5000 + q) * 256, 256);
            SearchResult before = index.Search(query, 10), after = loaded.Search(query, 10);
            after.Ids.Should().Equal(before.Ids, $"query {q}");
            after.Distances.Should().Equal(before.Distances, $"query {q}");
        }
    }
}
