using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;
using FluentAssertions;

namespace DeepRetrieval.Tests.Indexes;

public class HnswQuantizedTests
{
    private const int D = 32;
    private static readonly float[] Data = TestData.Clustered(2000, D, 40, 21);
    private static readonly float[] Queries = TestData.Clustered(100, D, 40, 22);

    private static HnswIndex Build(ScalarQuantizerType type, Metric metric = Metric.L2)
    {
        var index = new HnswIndex(D, type, metric) { BuildThreads = 1 };
        index.Train(Data);
        index.Add(Data);
        return index;
    }

    private static double Recall(HnswIndex index, Metric metric, int k = 10)
    {
        var flat = new FlatIndex(D, metric);
        flat.Add(Data);
        long[] truth = flat.Search(Queries, k).Ids;
        long[] found = index.Search(Queries, k, new HnswSearchOptions { Ef = 64 }).Ids;
        int hits = 0;
        for (int q = 0; q < truth.Length / k; q++)
        {
            var expected = truth.AsSpan(q * k, k).ToArray().ToHashSet();
            for (int j = 0; j < k; j++) if (expected.Contains(found[q * k + j])) hits++;
        }
        return (double)hits / truth.Length;
    }

    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, Metric.L2, 0.9)]
    [InlineData(ScalarQuantizerType.SQ8, Metric.Cosine, 0.9)]
    [InlineData(ScalarQuantizerType.SQ8, Metric.InnerProduct, 0.85)]
    [InlineData(ScalarQuantizerType.Fp16, Metric.L2, 0.97)]
    [InlineData(ScalarQuantizerType.SQ4, Metric.L2, 0.5)]
    public void Search_HasHighRecallAgainstExactFloats(ScalarQuantizerType type, Metric metric, double floor)
    {
        HnswIndex index = Build(type, metric);
        index.Kind.Should().Be("HNSW_SQ");
        index.Quantization.Should().Be(type);
        Recall(index, metric).Should().BeGreaterThan(floor);
    }

    [Fact]
    public void Sq8_StoresOneBytePerComponent()
    {
        var raw = new HnswIndex(D) { BuildThreads = 1 };
        raw.Add(Data);
        HnswIndex sq8 = Build(ScalarQuantizerType.SQ8);
        // Same graph shape and ids; the vectors shrink from 4D to D bytes each.
        (raw.MemoryUsageBytes - sq8.MemoryUsageBytes).Should().BeCloseTo(3L * D * 2000, 3UL * D * 2048 - 3UL * D * 2000 + 64);
    }

    [Fact]
    public void Add_BeforeTraining_Throws_AndRetrainingAfterAdd_Throws()
    {
        var index = new HnswIndex(D, ScalarQuantizerType.SQ8);
        index.IsTrained.Should().BeFalse();
        ((Action)(() => index.Add(Data))).Should().Throw<InvalidOperationException>().WithMessage("*train*");
        index.Train(Data);
        index.Add(Data.AsSpan(0, D * 10));
        ((Action)(() => index.Train(Data))).Should().Throw<InvalidOperationException>().WithMessage("*already holds*");
        new HnswIndex(D, ScalarQuantizerType.Fp16).IsTrained.Should().BeTrue();
    }

    [Fact]
    public void Search_DistancesApproximateExactOnes()
    {
        HnswIndex index = Build(ScalarQuantizerType.SQ8);
        SearchResult result = index.Search(Queries.AsSpan(0, D), 5);
        for (int j = 0; j < 5; j++)
        {
            float exact = DeepRetrieval.Distances.Distance.SquaredL2(Queries.AsSpan(0, D), Data.AsSpan((int)result.Ids[j] * D, D));
            result.Distances[j].Should().BeApproximately(exact, 0.05f * exact + 0.05f);
        }
    }
}

public class HnswQuantizedRemovalTests
{
    [Fact]
    public void Remove_RelinksQuantizedGraphs_Too()
    {
        const int d = 32;
        float[] data = TestData.Clustered(1500, d, 20, 31);
        var index = new HnswIndex(d, ScalarQuantizerType.SQ8, Metric.L2, m: 8) { BuildThreads = 1 };
        index.Train(data);
        index.Add(data);
        index.Remove(Enumerable.Range(0, 1500).Where(i => i % 2 == 0).Select(i => (long)i).ToArray());
        index.CountLinksToRemoved().Should().Be(0);
        index.CountUnreachable().Should().Be(0);
        SearchResult found = index.Search(data.AsSpan(1 * d, d), 5, new HnswSearchOptions { Ef = 64 });
        found.Ids[0].Should().Be(1L);
        found.Ids.Should().OnlyContain(id => id % 2 == 1);
    }
}

// HNSW over SQ8 codes (walked in integers) with an exact re-rank from the raw floats: Faiss's HNSW32,SQ8 under an IndexRefineFlat.
public class HnswQuantizedRefineTests
{
    private const int D = 47; // odd: the integer kernel's overlapping last block and its scalar fallback both run
    private static readonly float[] Data = TestData.Clustered(2000, D, 30, 51);
    private static readonly float[] Queries = TestData.Clustered(60, D, 30, 52);

    private static RefineFlatIndex Build(double kFactor)
    {
        var index = (RefineFlatIndex)IndexFactory.Create(D, "HNSW16,SQ8,RFlat");
        index.KFactor = kFactor;
        ((HnswIndex)index.BaseIndex).BuildThreads = 1;
        index.Train(Data);
        index.Add(Data);
        return index;
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    public void Search_ReturnsTheFloatReRankOfTheBaseCandidates(double kFactor)
    {
        const int k = 10;
        RefineFlatIndex index = Build(kFactor);
        var options = new HnswSearchOptions { Ef = 24 };
        int candidates = (int)Math.Ceiling(k * kFactor);
        SearchResult found = index.Search(Queries, k, options);
        SearchResult proposed = index.BaseIndex.Search(Queries, candidates, options);
        for (int q = 0; q < Queries.Length / D; q++)
        {
            float[] query = Queries.AsSpan(q * D, D).ToArray();
            var expected = proposed.IdsOf(q).ToArray().Where(id => id >= 0)
                .Select(id => (Distance: Distance.SquaredL2(query, Data.AsSpan((int)id * D, D)), Id: id))
                .OrderBy(c => c.Distance).ThenBy(c => c.Id).Take(k).ToArray();
            found.IdsOf(q).ToArray().Should().Equal(expected.Select(c => c.Id));
            found.DistancesOf(q).ToArray().Should().Equal(expected.Select(c => c.Distance));
        }
    }

    [Fact]
    public void Search_WithReRank_HasHighRecall_AndSurvivesSaveAndLoad()
    {
        RefineFlatIndex index = Build(2.0);
        var flat = new FlatIndex(D);
        flat.Add(Data);
        SearchResult truth = flat.Search(Queries, 10);
        var options = new HnswSearchOptions { Ef = 32 };
        SearchResult found = index.Search(Queries, 10, options);
        int hits = 0;
        for (int q = 0; q < truth.QueryCount; q++) hits += found.IdsOf(q).ToArray().Intersect(truth.IdsOf(q).ToArray()).Count();
        (hits / (double)truth.Ids.Length).Should().BeGreaterThan(0.95);

        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        var loaded = (RefineFlatIndex)IndexFile.Load(stream);
        SearchResult again = loaded.Search(Queries, 10, options);
        again.Ids.Should().Equal(found.Ids);
        again.Distances.Should().Equal(found.Distances);
        loaded.Contains(7).Should().BeTrue();
        var row = new float[D];
        loaded.Reconstruct(7, row);
        row.Should().Equal(Data.AsSpan(7 * D, D).ToArray());
    }

    [Fact]
    public void Sq8Search_ReturnsTheQueryToCodeDistances_OfWhatTheIntegerWalkKept()
    {
        // The walk ranks by the symmetric integer key; what HNSW_SQ returns is still the float query's distance to the code.
        var index = (HnswIndex)IndexFactory.Create(D, "HNSW16,SQ8");
        index.BuildThreads = 1;
        index.Train(Data);
        index.Add(Data);
        var quantizer = new ScalarQuantizer(D, ScalarQuantizerType.SQ8);
        quantizer.Train(Data);
        var code = new byte[D];
        SearchResult found = index.Search(Queries, 10, new HnswSearchOptions { Ef = 32 });
        for (int q = 0; q < found.QueryCount; q++)
        {
            ReadOnlySpan<float> query = Queries.AsSpan(q * D, D);
            for (int j = 0; j < 10; j++)
            {
                quantizer.Encode(Data.AsSpan((int)found.IdsOf(q)[j] * D, D), code);
                found.DistancesOf(q)[j].Should().Be(quantizer.SquaredL2(query, code));
            }
            found.DistancesOf(q).ToArray().Should().BeInAscendingOrder();
        }
    }
}
