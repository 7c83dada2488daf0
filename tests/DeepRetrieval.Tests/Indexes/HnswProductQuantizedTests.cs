using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Indexes.Hnsw;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// HNSW over product-quantized codes (Faiss's <c>IndexHNSWPQ</c>, factory <c>HNSW16,PQ8</c>): recall against a float
/// HNSW and exact search, the same answers as an exhaustive PQ scan when the beam covers the graph, distances equal to
/// those to the decoded codes, files, factory strings and the 4-bit path.
/// </summary>
public class HnswProductQuantizedTests
{
    private const int D = 32, N = 2000, Q = 100, K = 10;
    private static readonly float[] Data = TestData.Clustered(N, D, 40, 31);
    private static readonly float[] Queries = TestData.Clustered(Q, D, 40, 32);

    private static HnswIndex Build(int subQuantizers, int bits = 8, Metric metric = Metric.L2)
    {
        HnswIndex index = HnswIndex.WithProductQuantizer(D, subQuantizers, bits, metric);
        index.BuildThreads = 1;
        index.Train(Data);
        index.Add(Data);
        return index;
    }

    private static double Overlap(long[] truth, long[] found)
    {
        int hits = 0;
        for (int q = 0; q < Q; q++)
        {
            var expected = truth.AsSpan(q * K, K).ToArray().ToHashSet();
            for (int j = 0; j < K; j++) if (expected.Contains(found[q * K + j])) hits++;
        }
        return (double)hits / (Q * K);
    }

    private static long[] Exact(Metric metric)
    {
        var flat = new FlatIndex(D, metric);
        flat.Add(Data);
        return flat.Search(Queries, K).Ids;
    }

    [Theory]
    [InlineData(Metric.L2)]
    [InlineData(Metric.InnerProduct)]
    [InlineData(Metric.Cosine)]
    public void Search_LosesLittleRecallToTheCodes_ComparedWithAFloatHnswAndAnExhaustivePqScan(Metric metric)
    {
        HnswIndex pq = Build(16, metric: metric);
        var floats = new HnswIndex(D, metric) { BuildThreads = 1 };
        floats.Add(Data);
        var scan = new PqIndex(D, 16, metric: metric);
        scan.Train(Data);
        scan.Add(Data);
        long[] truth = Exact(metric);
        var options = new HnswSearchOptions { Ef = 64 };

        double floatRecall = Overlap(truth, floats.Search(Queries, K, options).Ids);
        double pqRecall = Overlap(truth, pq.Search(Queries, K, options).Ids);
        double scanRecall = Overlap(truth, scan.Search(Queries, K).Ids);

        pq.Kind.Should().Be(IndexKinds.HnswProductQuantized);
        floatRecall.Should().BeGreaterThan(0.95);
        // The codes cost what they cost an exhaustive scan; the graph over them costs almost nothing more.
        pqRecall.Should().BeGreaterThan(0.6).And.BeGreaterThan(scanRecall - 0.03);
        pqRecall.Should().BeLessThanOrEqualTo(floatRecall);
    }

    [Theory]
    [InlineData(Metric.L2)]
    [InlineData(Metric.InnerProduct)]
    public void Search_WithABeamOverTheWholeGraph_ReturnsWhatAnExhaustivePqScanReturns(Metric metric)
    {
        // Same data and k-means settings give the same codebooks, so both compare the same codes through the same table.
        HnswIndex graph = Build(8, metric: metric);
        var scan = new PqIndex(D, 8, metric: metric);
        scan.Train(Data);
        scan.Add(Data);
        graph.ProductQuantizer!.Centroids.ToArray().Should().Equal(scan.Quantizer.Centroids.ToArray());

        SearchResult fromGraph = graph.Search(Queries, K, new HnswSearchOptions { Ef = N });
        SearchResult fromScan = scan.Search(Queries, K);

        fromGraph.Ids.Should().Equal(fromScan.Ids);
        fromGraph.Distances.Should().Equal(fromScan.Distances);
    }

    [Fact]
    public void Search_ReportsTheDistanceToTheDecodedCode()
    {
        HnswIndex index = Build(8);
        SearchResult result = index.Search(Queries.AsSpan(0, D), K);
        var decoded = new float[D];
        for (int j = 0; j < K; j++)
        {
            index.Reconstruct(result.Ids[j], decoded);
            double expected = 0;
            for (int c = 0; c < D; c++) expected += ((double)Queries[c] - decoded[c]) * ((double)Queries[c] - decoded[c]);
            result.Distances[j].Should().BeApproximately((float)expected, 1e-3f * (float)Math.Max(1, expected));
        }
        index.Reconstruction.Should().Be(ReconstructionKind.Approximate);
    }

    [Fact]
    public void SaveAndLoad_KeepsKindCodebooksAndAnswers()
    {
        HnswIndex index = Build(8);
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        var loaded = (HnswIndex)IndexFile.Load(stream);

        loaded.Kind.Should().Be(IndexKinds.HnswProductQuantized);
        loaded.StorageToken.Should().Be("PQ8");
        loaded.ProductQuantizer!.Centroids.ToArray().Should().Equal(index.ProductQuantizer!.Centroids.ToArray());
        loaded.Search(Queries, K).Ids.Should().Equal(index.Search(Queries, K).Ids);
    }

    [Fact]
    public void Factory_BuildsPqStorage_WithBitsAndMetric()
    {
        var index = (HnswIndex)IndexFactory.Create(D, "HNSW24,PQ16x4", Metric.InnerProduct);
        index.M.Should().Be(24);
        index.StorageToken.Should().Be("PQ16x4");
        index.ProductQuantizer!.BitsPerCode.Should().Be(4);
        index.Metric.Should().Be(Metric.InnerProduct);
        index.IsTrained.Should().BeFalse();
        ((Action)(() => index.Add(Data))).Should().Throw<InvalidOperationException>().WithMessage("*train*");
    }

    [Fact]
    public void FourBitCodes_StillFindNeighbours_AndUseHalfAByteEach()
    {
        HnswIndex four = Build(16, bits: 4);
        HnswIndex eight = Build(16);
        Overlap(Exact(Metric.L2), four.Search(Queries, K, new HnswSearchOptions { Ef = 64 }).Ids).Should().BeGreaterThan(0.3);
        // 8 bytes against 16 per node: the graph is the same size, the codebooks are 16× smaller.
        (eight.MemoryUsageBytes - four.MemoryUsageBytes).Should().BeGreaterThan(8L * N);
    }

    [Fact]
    public void Train_WithFewerRowsThanCentroids_ThrowsNamingTheCount()
    {
        HnswIndex index = HnswIndex.WithProductQuantizer(D, 8);
        ((Action)(() => index.Train(Data.AsSpan(0, 100 * D)))).Should().Throw<ArgumentException>().WithMessage("*256*");
        index.IsTrained.Should().BeFalse();
    }
}
