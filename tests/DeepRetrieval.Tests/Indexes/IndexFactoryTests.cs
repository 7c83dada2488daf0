using DeepRetrieval.Indexes;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Tests.Indexes;

public class IndexFactoryTests
{
    [Fact]
    public void Create_Flat_BuildsAFlatIndex()
    {
        IVectorIndex index = IndexFactory.Create(16, "Flat", Metric.InnerProduct);
        index.Should().BeOfType<FlatIndex>();
        index.Dimension.Should().Be(16);
        index.Metric.Should().Be(Metric.InnerProduct);
        index.Kind.Should().Be("Flat");
    }

    [Fact]
    public void Create_HnswWithM_BuildsAGraphIndex()
    {
        IVectorIndex index = IndexFactory.Create(8, " HNSW32 ");
        index.Should().BeOfType<HnswIndex>().Which.M.Should().Be(32);
        index.Kind.Should().Be("HNSW");
        IndexFactory.Create(8, "HNSW16,Flat").Should().BeOfType<HnswIndex>().Which.Quantization.Should().BeNull();
        IndexFactory.Create(8, "HNSW32,SQ8").Should().BeOfType<HnswIndex>().Which.Quantization.Should().Be(ScalarQuantizerType.SQ8);
    }

    [Theory]
    [InlineData("SQ8", ScalarQuantizerType.SQ8)]
    [InlineData("SQ4", ScalarQuantizerType.SQ4)]
    [InlineData("SQfp16", ScalarQuantizerType.Fp16)]
    public void Create_ScalarQuantizer_BuildsAnUntrainedCodeIndex(string description, ScalarQuantizerType type)
    {
        IVectorIndex index = IndexFactory.Create(8, description);
        index.Should().BeOfType<ScalarQuantizerIndex>().Which.Type.Should().Be(type);
        index.IsTrained.Should().Be(type == ScalarQuantizerType.Fp16);
    }

    // Every string the ANN issue names, at a dimension they all fit (PCA128 needs at least 128).
    [Theory]
    [InlineData("Flat", typeof(FlatIndex))]
    [InlineData("HNSW32", typeof(HnswIndex))]
    [InlineData("HNSW32,SQ8", typeof(HnswIndex))]
    [InlineData("IVF1024,Flat", typeof(IvfIndex))]
    [InlineData("IVF1024,SQ8", typeof(IvfIndex))]
    [InlineData("IVF1024,PQ16", typeof(IvfIndex))]
    [InlineData("OPQ16,IVF1024,PQ16", typeof(TransformedIndex))]
    [InlineData("PCA128,IVF4096,PQ32", typeof(TransformedIndex))]
    [InlineData("IVF65536_HNSW32,PQ32", typeof(IvfIndex))]
    [InlineData("IVF1024,PQ16,RFlat", typeof(RefineFlatIndex))]
    [InlineData("LSH256", typeof(LshIndex))]
    [InlineData("ITQ64,BFlat", typeof(TransformedIndex))]
    [InlineData("KDTree", typeof(KdTreeIndex))]
    [InlineData("RPForest10", typeof(RandomProjectionForestIndex))]
    [InlineData("RPForest10_64", typeof(RandomProjectionForestIndex))]
    [InlineData("PQ16", typeof(PqIndex))]
    [InlineData("PQ16x4", typeof(PqIndex))]
    [InlineData("SQ4", typeof(ScalarQuantizerIndex))]
    [InlineData("PCAW64,Flat", typeof(TransformedIndex))]
    [InlineData("OPQ16_64,IVF256,PQ16,RFlat", typeof(RefineFlatIndex))]
    [InlineData("BFlat", typeof(BinaryFlatIndex))]
    public void Create_AcceptsEveryDocumentedDescription(string description, Type expected)
    {
        IVectorIndex index = IndexFactory.Create(256, description);
        index.Should().BeOfType(expected);
        index.Dimension.Should().Be(256);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("SQ16", "token 1 \"SQ16\"")]
    [InlineData("HNSW", "link count M")]
    [InlineData("HNSWx", "\"HNSWx\"")]
    [InlineData("HNSW1", "from 2 to 1024")]
    [InlineData("HNSW16,PQ8", "token 2 \"PQ8\"")]
    [InlineData("Flat,", "token 2 is empty")]
    [InlineData("Flaat", "token 1 \"Flaat\"")]
    [InlineData("Flat,PQ8", "token 2 \"PQ8\"")]
    [InlineData("IVF", "list count")]
    [InlineData("IVF1024", "must be followed by a list encoding")]
    [InlineData("IVF1024,PQ", "token 2 \"PQ\"")]
    [InlineData("IVF1024,PQ7", "token 2 \"PQ7\"")]
    [InlineData("IVF1024_Flat,Flat", "coarse quantizer")]
    [InlineData("IVF1024,Flat,Flat", "token 3 \"Flat\"")]
    [InlineData("PCA32", "an index must follow")]
    [InlineData("PCA512,Flat", "512 output dimensions from 64")]
    [InlineData("PCAx,Flat", "token 1 \"PCAx\"")]
    [InlineData("OPQ5,Flat", "multiple of its 5")]
    [InlineData("RFlat", "an index must come before it")]
    [InlineData("Flat,RFlat,RFlat", "token 3 \"RFlat\"")]
    [InlineData("LSHx", "token 1 \"LSHx\"")]
    [InlineData("LSH12", "multiple of 8")]
    [InlineData("RPForest", "tree count")]
    [InlineData("RPForest10_x", "leaf size")]
    [InlineData("RPForest10_64_2", "leaf size")]
    [InlineData("RPForest10_70000", "does not fit here")]
    [InlineData("PQ7", "token 1 \"PQ7\"")]
    [InlineData("ITQ128,BFlat", "128 output dimensions from 64")]
    public void Create_RejectsMalformedDescriptions_NamingTheToken(string description, string expected)
    {
        FluentActions.Invoking(() => IndexFactory.Create(64, description)).Should().Throw<ArgumentException>().WithMessage($"*{expected}*");
    }

    [Fact]
    public void Create_RPForestLeafSize_ComesFromTheUnderscoreParameter()
    {
        ((RandomProjectionForestIndex)IndexFactory.Create(64, "RPForest10_40")).LeafSize.Should().Be(40);
        var forest = (RandomProjectionForestIndex)IndexFactory.Create(64, "RPForest3");
        forest.TreeCount.Should().Be(3);
        forest.LeafSize.Should().Be(66, "Annoy's default is dimension + 2");
    }

    // Each composition trains, fills and searches through the same contract, with recall that says it is wired right.
    [Theory]
    [InlineData("Flat", 0.999)]
    [InlineData("HNSW16", 0.97)]
    [InlineData("HNSW16,SQ8", 0.9)]
    [InlineData("SQ8", 0.85)]
    [InlineData("PQ16", 0.4)]
    [InlineData("IVF16,Flat", 0.95)]
    [InlineData("IVF16,SQ8", 0.85)]
    [InlineData("IVF16,PQ16", 0.4)]
    [InlineData("IVF16_HNSW8,Flat", 0.95)]
    [InlineData("OPQ16,IVF16,PQ16", 0.4)]
    [InlineData("PCA24,IVF16,Flat", 0.5)]
    [InlineData("IVF16,PQ8,RFlat", 0.7)]
    [InlineData("LSH256", 0.15)]
    [InlineData("ITQ32,BFlat", 0.05)]
    [InlineData("KDTree", 0.999)]
    [InlineData("RPForest10", 0.5)]
    public void Create_ComposedIndexes_TrainAddAndSearchWithRecall(string description, double floor)
    {
        const int d = 32, n = 3000, k = 10;
        float[] data = TestData.Clustered(n, d, 30, 7);
        float[] queries = TestData.Clustered(100, d, 30, 8);
        var exact = new FlatIndex(d);
        exact.Add(data);
        long[] truth = exact.Search(queries, k).Ids;

        IVectorIndex index = IndexFactory.Create(d, description);
        if (!index.IsTrained) index.Train(data);
        index.Add(data);
        index.SetSearchParameterIfKnown("nprobe", 8);
        index.SetSearchParameterIfKnown("ef", 64);
        index.Count.Should().Be(n);
        var ids = new long[queries.Length / d * k];
        index.Search(queries, k, ids, new float[ids.Length]);
        int hits = 0;
        for (int q = 0; q < ids.Length / k; q++)
        {
            var expected = truth.AsSpan(q * k, k).ToArray().ToHashSet();
            for (int j = 0; j < k; j++) if (expected.Contains(ids[q * k + j])) hits++;
        }
        ((double)hits / ids.Length).Should().BeGreaterThan(floor, description);
    }
}


public class IndexContractBadInputTests
{
    public static TheoryData<string> Descriptions() => new()
    {
        "Flat", "HNSW8", "HNSW8,SQ8", "SQ8", "PQ8", "IVF8,Flat", "IVF8,SQ8", "IVF8,PQ8", "IVF8_HNSW8,Flat", "OPQ8,IVF8,PQ8",
        "PCA16,Flat", "IVF8,PQ8,RFlat", "LSH64", "ITQ16,BFlat", "BFlat", "KDTree", "RPForest4",
    };

    private const int D = 32;

    private static IVectorIndex Trained(string description)
    {
        IVectorIndex index = IndexFactory.Create(D, description);
        if (!index.IsTrained) index.Train(TestData.Clustered(600, D, 8, 3));
        return index;
    }

    // The foundation's bad-input classes, for every kind the factory builds: each is refused with an exception that names it.
    [Theory]
    [MemberData(nameof(Descriptions))]
    public void EveryIndexKind_RejectsBadInput_WithoutChangingItsContents(string description)
    {
        IVectorIndex index = Trained(description);
        float[] data = TestData.Clustered(200, D, 8, 4);
        index.Add(data);
        long count = index.Count;

        FluentActions.Invoking(() => index.Add(new float[D + 1])).Should().Throw<ArgumentException>().WithMessage("*dimension*");
        float[] nan = data[..(2 * D)];
        nan[D + 3] = float.NaN;
        FluentActions.Invoking(() => index.Add(nan)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => index.Search(data.AsSpan(0, D).ToArray(), 0, new long[1], new float[1])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => index.Search(new float[D - 1], 1, new long[1], new float[1])).Should().Throw<ArgumentException>().WithMessage("*dimension*");
        FluentActions.Invoking(() => index.Remove([123_456_789L])).Should().Throw<KeyNotFoundException>();
        FluentActions.Invoking(() => index.SetSearchParameter("no_such_knob", 1)).Should().Throw<ArgumentException>().WithMessage("*no_such_knob*");
        Exception? untrainable = Record.Exception(() => index.Train([]));
        if (untrainable is not null) untrainable.Should().Match(e => e is ArgumentException || e is InvalidOperationException);
        index.Count.Should().Be(count);
    }

    [Theory]
    [MemberData(nameof(Descriptions))]
    public void EveryIndexKind_RoundTripsThroughAnIndexFile_WithIdenticalResults(string description)
    {
        IVectorIndex index = Trained(description);
        float[] data = TestData.Clustered(300, D, 8, 5);
        index.Add(data);
        float[] queries = TestData.Clustered(20, D, 8, 6);
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        IVectorIndex loaded = DeepRetrieval.Persistence.IndexFile.Load(stream);
        loaded.Kind.Should().Be(index.Kind);
        loaded.Count.Should().Be(index.Count);
        var (ids, distances) = (new long[20 * 5], new float[20 * 5]);
        var (loadedIds, loadedDistances) = (new long[20 * 5], new float[20 * 5]);
        index.Search(queries, 5, ids, distances);
        loaded.Search(queries, 5, loadedIds, loadedDistances);
        loadedIds.Should().Equal(ids);
        loadedDistances.Should().Equal(distances);
    }
}

internal static class IndexTestExtensions
{
    public static void SetSearchParameterIfKnown(this IVectorIndex index, string name, double value)
    {
        try
        {
            index.SetSearchParameter(name, value);
        }
        catch (ArgumentException)
        {
            // Indexes without this knob reject it; that is the contract.
        }
    }
}
