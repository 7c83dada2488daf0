using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Tests.Indexes;

public class ScalarQuantizerIndexTests
{
    // Returns 10-recall@10 (overlap of the top 10 with the exact top 10) and 1-recall@10 (the exact nearest
    // neighbour is among the top 10, the "R@10" Faiss reports).
    private static (double TenRecall, double OneRecall) RecallAt10(float[] data, float[] queries, int d, Metric metric, ScalarQuantizerType type, int threads)
    {
        var exact = new FlatIndex(d, metric);
        exact.Add(data);
        var index = new ScalarQuantizerIndex(d, type, metric);
        index.Train(data);
        index.Add(data);
        var options = new SearchOptions { MaxDegreeOfParallelism = threads };
        SearchResult truth = exact.Search(queries, 10, options);
        SearchResult found = index.Search(queries, 10, options);
        int nq = queries.Length / d, hits = 0, firstHits = 0;
        for (int q = 0; q < nq; q++)
        {
            hits += found.IdsOf(q).ToArray().Intersect(truth.IdsOf(q).ToArray()).Count();
            if (found.IdsOf(q).Contains(truth.IdsOf(q)[0])) firstHits++;
        }
        return (hits / (10.0 * nq), firstHits / (double)nq);
    }

    // Measured on this data: SQ8 L2 0.969 / 1.0, IP 0.979 / 1.0, cosine 0.879 / 1.0, SQ4 0.617 / 0.93, Fp16 0.998 / 1.0.
    // Cosine squeezes each tight cluster onto a small cap of the unit sphere, where 256 levels over the full [−1, 1]
    // range leave many near-ties; SQ4's 16 levels cannot order ten neighbours whose distances differ by less than
    // one level, so its bar is on the nearest neighbour, as Faiss reports it.
    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, Metric.L2, 0.95, 0.99, 2)]
    [InlineData(ScalarQuantizerType.SQ8, Metric.InnerProduct, 0.95, 0.99, 1)]
    [InlineData(ScalarQuantizerType.SQ8, Metric.Cosine, 0.85, 0.99, 2)]
    [InlineData(ScalarQuantizerType.SQ4, Metric.L2, 0.55, 0.8, 2)]
    [InlineData(ScalarQuantizerType.Fp16, Metric.L2, 0.99, 0.99, 2)]
    public void Recall_AgainstExactSearch(ScalarQuantizerType type, Metric metric, double minimumTenRecall, double minimumOneRecall, int threads)
    {
        const int d = 32;
        // Queries come from the same clusters as the data (the centres depend on the seed), held out of the index.
        float[] all = TestData.Clustered(3100, d, 20, 21);
        float[] data = all[..(3000 * d)];
        float[] queries = all[(3000 * d)..];
        var (tenRecall, oneRecall) = RecallAt10(data, queries, d, metric, type, threads);
        tenRecall.Should().BeGreaterThanOrEqualTo(minimumTenRecall);
        oneRecall.Should().BeGreaterThanOrEqualTo(minimumOneRecall);
    }

    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, Metric.L2)]
    [InlineData(ScalarQuantizerType.SQ4, Metric.InnerProduct)]
    [InlineData(ScalarQuantizerType.Fp16, Metric.Cosine)]
    public void Distances_AreThoseToDecodedVectors_AndBatchMatchesSingle(ScalarQuantizerType type, Metric metric)
    {
        const int d = 17;
        float[] data = TestData.Gaussian(300, d, 23);
        float[] queries = TestData.Gaussian(9, d, 24);
        var index = new ScalarQuantizerIndex(d, type, metric);
        index.Train(data);
        index.Add(data);
        SearchResult batch = index.Search(queries, 5, new SearchOptions { MaxDegreeOfParallelism = 2 });
        var x = new float[d];
        for (int q = 0; q < 9; q++)
        {
            var query = queries.AsSpan(q * d, d).ToArray();
            if (metric == Metric.Cosine)
            {
                float norm = MathF.Sqrt(query.Sum(v => v * v));
                for (int j = 0; j < d; j++) query[j] /= norm;
            }
            SearchResult single = index.Search(queries.AsSpan(q * d, d), 5, new SearchOptions { MaxDegreeOfParallelism = 1 });
            single.Ids.Should().Equal(batch.IdsOf(q).ToArray());
            single.Distances.Should().Equal(batch.DistancesOf(q).ToArray());
            for (int j = 0; j < 5; j++)
            {
                index.Reconstruct(single.Ids[j], x);
                float expected = metric == Metric.L2
                    ? query.Zip(x, (a, b) => (a - b) * (a - b)).Sum()
                    : query.Zip(x, (a, b) => a * b).Sum();
                single.Distances[j].Should().BeApproximately(expected, 1e-4f * Math.Max(1f, Math.Abs(expected)));
            }
        }
    }

    [Fact]
    public void AddSearchAndSave_BeforeTraining_Throw()
    {
        var index = new ScalarQuantizerIndex(2, ScalarQuantizerType.SQ8);
        index.IsTrained.Should().BeFalse();
        FluentActions.Invoking(() => index.Add([1f, 2f])).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => index.Search([1f, 2f], 2)).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => index.RangeSearch([1f, 2f], 1f)).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => index.Save(new MemoryStream())).Should().Throw<InvalidOperationException>();
        new ScalarQuantizerIndex(2, ScalarQuantizerType.Fp16).IsTrained.Should().BeTrue();
    }

    [Fact]
    public void Train_RejectsNaN_AndRetrainingAFilledIndex()
    {
        var index = new ScalarQuantizerIndex(2, ScalarQuantizerType.SQ4);
        FluentActions.Invoking(() => index.Train([0f, float.NaN])).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        index.IsTrained.Should().BeFalse();
        index.Train([0f, 0f, 1f, 1f]);
        index.Train([0f, 0f, 2f, 2f]); // trained and empty: nothing changes
        index.Add([1f, 1f]);
        // Ranges [0, 1], not [0, 2]: 1 falls in the top of 16 levels and decodes to its middle, 15.5 / 16 (with [0, 2] it
        // would decode to 7.5 / 16 · 2 or 8.5 / 16 · 2).
        index.Reconstruct(0).Should().Equal(0.96875f, 0.96875f);
        FluentActions.Invoking(() => index.Train([0f, 0f, 3f, 3f])).Should().Throw<InvalidOperationException>().WithMessage("*already holds*");
    }

    [Fact]
    public void Search_OrdersDuplicatesAndTiesByAscendingId()
    {
        var index = new ScalarQuantizerIndex(2, ScalarQuantizerType.SQ8);
        index.Train([-1f, -1f, 1f, 1f]);
        index.Add([1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f], [40, 7, 23, 5, 12]);
        var result = index.Search([0f, 0f], 5);
        result.IdsOf(0).ToArray().Should().Equal(5L, 7L, 12L, 23L, 40L);
        result.DistancesOf(0).ToArray().Should().AllBeEquivalentTo(result.Distances[0]);
    }

    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, 8)]
    [InlineData(ScalarQuantizerType.SQ4, 4)]
    [InlineData(ScalarQuantizerType.Fp16, 16)]
    public void MemoryUsage_IsCodeSizePlusIdAndMapPerVector(ScalarQuantizerType type, int codeSize)
    {
        const int d = 8;
        var index = new ScalarQuantizerIndex(d, type);
        float[] data = TestData.Gaussian(1000, d, 25);
        index.Train(data);
        index.Add(data);
        index.CodeSize.Should().Be(codeSize);
        index.Type.Should().Be(type);
        ((double)index.MemoryUsageBytes / index.Count).Should().BeApproximately(codeSize + 8 + 24, 0.5);
    }

    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, Metric.L2, 16)]
    [InlineData(ScalarQuantizerType.SQ4, Metric.InnerProduct, 7)]
    [InlineData(ScalarQuantizerType.Fp16, Metric.Cosine, 9)]
    public void SaveAndLoad_RoundTrips(ScalarQuantizerType type, Metric metric, int d)
    {
        float[] data = TestData.Gaussian(200, d, 26);
        float[] queries = TestData.Gaussian(5, d, 27);
        var index = new ScalarQuantizerIndex(d, type, metric);
        index.Train(data);
        index.Add(data);
        index.Remove([3, 50]);
        var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;

        var loaded = (ScalarQuantizerIndex)IndexFile.Load(stream);

        loaded.Type.Should().Be(type);
        loaded.Metric.Should().Be(metric);
        loaded.Count.Should().Be(198);
        loaded.NextId.Should().Be(200);
        loaded.Contains(50).Should().BeFalse();
        SearchResult before = index.Search(queries, 7), after = loaded.Search(queries, 7);
        after.Ids.Should().Equal(before.Ids);
        after.Distances.Should().Equal(before.Distances);
        loaded.Add(data[..d]).Should().Be(200);
    }

    // Reads the payload straight out of a saved container so a test can corrupt it past the checksum. Container: "DRIX", version, kind length, "SQ", payload, 16-byte trailer.
    private static ScalarQuantizerIndex ReadPayloadOf(byte[] file, Action<byte[]>? corrupt = null)
    {
        const int header = 4 + 4 + 1 + 2, trailer = 16;
        byte[] payload = file[header..^trailer];
        corrupt?.Invoke(payload);
        return ScalarQuantizerIndex.ReadPayload(new IndexPayloadReader(new MemoryStream(payload), payload.Length, "SQ"));
    }

    [Fact]
    public void ReadPayload_RejectsCorruptPayloads()
    {
        const int d = 3; // SQ4 with an odd dimension: 2-byte codes with a padding nibble
        var index = new ScalarQuantizerIndex(d, ScalarQuantizerType.SQ4);
        index.Train([0f, 0f, 0f, 1f, 1f, 1f]);
        index.Add([0.5f, 0.5f, 0.5f, 1f, 1f, 1f], [4, 9]);
        var stream = new MemoryStream();
        index.Save(stream);
        byte[] file = stream.ToArray();
        // Payload: dimension, metric, type, quantizer dimension (4 bytes each), minimums and ranges (d floats each),
        // count, next id (8 each), ids, codes.
        const int minAt = 16, rangeAt = minAt + 4 * d, countAt = rangeAt + 4 * d, nextIdAt = countAt + 8, idsAt = nextIdAt + 8, codesAt = idsAt + 16;

        ReadPayloadOf(file).Count.Should().Be(2);
        void Rejects(Action<byte[]> corrupt, string message) =>
            FluentActions.Invoking(() => ReadPayloadOf(file, corrupt)).Should().Throw<InvalidDataException>().WithMessage(message);
        Rejects(p => p[8] = 7, "*scalar quantizer type*");
        Rejects(p => p[12] = 2, "*quantizer has dimension 2*");
        Rejects(p => BitConverter.GetBytes(float.NaN).CopyTo(p, minAt), "*dimension 0*minimum NaN*");
        Rejects(p => BitConverter.GetBytes(-1f).CopyTo(p, rangeAt + 4), "*dimension 1*range -1*");
        Rejects(p => BitConverter.GetBytes(5L).CopyTo(p, countAt), "*ids*");
        Rejects(p => BitConverter.GetBytes(9L).CopyTo(p, nextIdAt), "*id 9*not below the next id 9*");
        Rejects(p => BitConverter.GetBytes(4L).CopyTo(p, idsAt + 8), "*id 4 appears twice*");
        Rejects(p => p[codesAt + 1] |= 0x10, "*padding nibble*");
    }
}
