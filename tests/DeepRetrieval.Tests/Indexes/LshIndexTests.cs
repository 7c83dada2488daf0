using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Binary;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

public class LshIndexTests
{
    // 10-recall@10 (overlap of the top 10 with the exact top 10) and 1-recall@10 (the exact nearest neighbour is in
    // the top 10) against exact search with the given metric.
    internal static (double TenRecall, double OneRecall) RecallAt10(IVectorIndex index, float[] data, float[] queries, int d, Metric exactMetric)
    {
        var exact = new FlatIndex(d, exactMetric);
        exact.Add(data);
        if (!index.IsTrained) index.Train(data);
        index.Add(data);
        SearchResult truth = exact.Search(queries, 10);
        var ids = new long[queries.Length / d * 10];
        index.Search(queries, 10, ids, new float[ids.Length]);
        int nq = queries.Length / d, hits = 0, firstHits = 0;
        for (int q = 0; q < nq; q++)
        {
            hits += ids.AsSpan(q * 10, 10).ToArray().Intersect(truth.IdsOf(q).ToArray()).Count();
            if (ids.AsSpan(q * 10, 10).Contains(truth.IdsOf(q)[0])) firstHits++;
        }
        return (hits / (10.0 * nq), firstHits / (double)nq);
    }

    // Measured on this data: LSH256 0.325 / 0.48, LSH64 0.171 / 0.21. Within a cluster the nearest neighbour is at
    // about 0.2 rad and a typical member at 0.28 rad; with 256 bits their Hamming distances (means 16 and 23, standard
    // deviations about 4) overlap heavily, so LSH orders a cluster only roughly. Chance inside the right cluster
    // (about 150 points) would be 0.07 / 0.07.
    [Theory]
    [InlineData(256, 0.28, 0.4)]
    [InlineData(64, 0.14, 0.16)]
    public void Recall_AgainstExactCosine(int bits, double minimumTenRecall, double minimumOneRecall)
    {
        const int d = 32;
        float[] all = TestData.Clustered(3100, d, 20, 41);
        var (tenRecall, oneRecall) = RecallAt10(new LshIndex(d, bits), all[..(3000 * d)], all[(3000 * d)..], d, Metric.Cosine);
        tenRecall.Should().BeGreaterThanOrEqualTo(minimumTenRecall);
        oneRecall.Should().BeGreaterThanOrEqualTo(minimumOneRecall);
    }

    [Fact]
    public void MoreBits_GiveHigherRecall()
    {
        const int d = 32;
        float[] all = TestData.Clustered(3100, d, 20, 41);
        double r64 = RecallAt10(new LshIndex(d, 64), all[..(3000 * d)], all[(3000 * d)..], d, Metric.Cosine).TenRecall;
        double r512 = RecallAt10(new LshIndex(d, 512), all[..(3000 * d)], all[(3000 * d)..], d, Metric.Cosine).TenRecall;
        r512.Should().BeGreaterThan(r64 + 0.1);
    }

    [Theory]
    [InlineData(Metric.Cosine)]
    [InlineData(Metric.Hamming)]
    public void Distances_AreHammingCountsOrTheirCosineEstimates(Metric metric)
    {
        const int d = 10, bits = 64;
        float[] data = TestData.Gaussian(50, d, 43);
        float[] query = TestData.Gaussian(1, d, 44);
        var index = new LshIndex(d, bits, metric, seed: 8);
        index.Add(data);
        SearchResult result = index.Search(query, 50);
        var queryCode = new byte[8];
        index.Hasher.Encode(query, queryCode);
        var code = new byte[8];
        for (int j = 0; j < 50; j++)
        {
            index.ReconstructCode(result.Ids[j], code);
            int hamming = Distance.Hamming(queryCode, code);
            float expected = metric == Metric.Hamming ? hamming : MathF.Cos(MathF.PI * hamming / bits);
            result.Distances[j].Should().Be(expected);
        }
        var distances = result.Distances.ToArray();
        if (metric == Metric.Hamming) distances.Should().BeInAscendingOrder();
        else distances.Should().BeInDescendingOrder();
    }

    [Fact]
    public void BatchSearchOnTwoThreads_MatchesOneQueryAtATime()
    {
        const int d = 16;
        float[] data = TestData.Clustered(500, d, 8, 50);
        float[] queries = TestData.Gaussian(7, d, 51);
        var index = new LshIndex(d, 128);
        index.Add(data);
        SearchResult batch = index.Search(queries, 6, new SearchOptions { MaxDegreeOfParallelism = 2 });
        for (int q = 0; q < 7; q++)
        {
            SearchResult single = index.Search(queries.AsSpan(q * d, d), 6);
            single.Ids.Should().Equal(batch.IdsOf(q).ToArray());
            single.Distances.Should().Equal(batch.DistancesOf(q).ToArray());
        }
    }

    [Fact]
    public void CosineRangeSearch_ReturnsCodesWhoseEstimateExceedsTheThreshold()
    {
        const int d = 10, bits = 64;
        float[] data = TestData.Gaussian(200, d, 45);
        float[] query = TestData.Gaussian(1, d, 46);
        var index = new LshIndex(d, bits);
        index.Add(data);
        SearchResult all = index.Search(query, 200);
        RangeSearchResult range = index.RangeSearch(query, 0.5f);
        var expected = Enumerable.Range(0, 200).Where(j => all.Distances[j] > 0.5f).Select(j => all.Ids[j]).ToArray();
        expected.Should().NotBeEmpty();
        expected.Length.Should().BeLessThan(200);
        range.IdsOf(0).ToArray().Should().Equal(expected);
        range.DistancesOf(0).ToArray().Should().OnlyContain(v => v > 0.5f);
    }

    [Fact]
    public void BadInputs_AreRejected()
    {
        FluentActions.Invoking(() => new LshIndex(8, 100)).Should().Throw<ArgumentException>().WithMessage("*multiple of 8*100*");
        FluentActions.Invoking(() => new LshIndex(8, 64, Metric.InnerProduct)).Should().Throw<ArgumentException>().WithMessage("*Metric.Cosine*Metric.Hamming*not InnerProduct*");
        FluentActions.Invoking(() => new LshIndex(8, 64, Metric.L2)).Should().Throw<ArgumentException>().WithMessage("*not L2*");
        var index = new LshIndex(3, 16);
        index.Add([1f, 0f, 0f]);
        FluentActions.Invoking(() => index.Add([1f, 2f, 3f, 0f, 0f, 0f])).Should().Throw<ArgumentException>().WithMessage("*zero vector*");
        FluentActions.Invoking(() => index.Add([1f, float.NaN, 3f])).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => index.Search([1f, 2f], 1)).Should().Throw<ArgumentException>().WithMessage("*dimension 3*");
        FluentActions.Invoking(() => index.Search([1f, 2f, 3f], 0)).Should().Throw<ArgumentOutOfRangeException>();
        index.Count.Should().Be(1, "failed adds change nothing");
    }

    [Fact]
    public void TrainedThresholds_MustBeTrainedBeforeAdding_AndCannotBeRetrainedOnceFilled()
    {
        const int d = 8;
        float[] data = TestData.Clustered(300, d, 5, 47);
        var index = new LshIndex(d, 32, Metric.Hamming, trainThresholds: true);
        index.IsTrained.Should().BeFalse();
        FluentActions.Invoking(() => index.Add(data)).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => index.Save(new MemoryStream())).Should().Throw<InvalidOperationException>();
        index.Train(data);
        index.IsTrained.Should().BeTrue();
        index.Hasher.Thresholds.ToArray().Should().Contain(t => t != 0f);
        index.Add(data);
        FluentActions.Invoking(() => index.Train(data)).Should().Throw<InvalidOperationException>().WithMessage("*already holds*");
        new LshIndex(d, 32).IsTrained.Should().BeTrue();
    }

    [Fact]
    public void Load_RejectsCorruptPayloads()
    {
        var index = new LshIndex(2, 8, Metric.Hamming);
        index.Add([1f, 0f, 0f, 1f]);
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] file = stream.ToArray();
        const int header = 4 + 4 + 1 + 3, trailer = 16;
        // Payload: dimension, metric, train flag, hasher dimension, bits, trained flag (4 bytes each), 16 direction floats, 8 thresholds, ...
        LshIndex Read(Action<byte[]> corrupt)
        {
            byte[] payload = file[header..^trailer];
            corrupt(payload);
            return LshIndex.ReadPayload(new IndexPayloadReader(new MemoryStream(payload), payload.Length, "LSH"));
        }
        Read(_ => { }).Count.Should().Be(2);
        void Rejects(Action<byte[]> corrupt, string message) =>
            FluentActions.Invoking(() => Read(corrupt)).Should().Throw<InvalidDataException>().WithMessage(message);
        Rejects(p => p[4] = 1, "*inner-product*");
        Rejects(p => p[12] = 3, "*hasher has dimension 3*");
        Rejects(p => p[16] = 12, "*multiple of 8*");
        Rejects(p => p[8] = 1, "*never trained*");
        Rejects(p => BitConverter.GetBytes(float.NaN).CopyTo(p, 24), "*not finite*");
    }

    [Fact]
    public void Factory_BuildsLshAndBinaryFlat()
    {
        var lsh = (LshIndex)IndexFactory.Create(16, "LSH256", Metric.Cosine);
        lsh.Bits.Should().Be(256);
        ((LshIndex)IndexFactory.Create(16, "LSH")).Bits.Should().Be(16);
        ((LshIndex)IndexFactory.Create(16, "LSH64t", Metric.Hamming)).TrainsThresholds.Should().BeTrue();
        IndexFactory.Create(16, "LSH64").Metric.Should().Be(Metric.Hamming, "Faiss's IndexLSH reports Hamming counts");
        FluentActions.Invoking(() => IndexFactory.Create(16, "LSH64", Metric.L2)).Should().Throw<ArgumentException>().WithMessage("*token 1 \"LSH64\"*Metric.Hamming*");
        IndexFactory.Create(16, "BFlat").Should().BeOfType<BinaryFlatIndex>();
        FluentActions.Invoking(() => IndexFactory.Create(16, "LSH12")).Should().Throw<ArgumentException>().WithMessage("*multiple of 8*");
        FluentActions.Invoking(() => IndexFactory.Create(16, "LSHx")).Should().Throw<ArgumentException>().WithMessage("*LSHx*");
        FluentActions.Invoking(() => IndexFactory.Create(16, "BFlat", Metric.Cosine)).Should().Throw<ArgumentException>().WithMessage("*Metric.Hamming*");
    }
}
