using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Binary;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Indexes.Trees;
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
    [InlineData("Flat,", "token 2 is empty")]
    [InlineData("Flaat", "token 1 \"Flaat\"")]
    [InlineData("Flat,PQ8", "token 2 \"PQ8\"")]
    [InlineData("IVF", "list count")]
    [InlineData("IVF1024", "must be followed by a list encoding")]
    [InlineData("IVF1024,PQ", "token 2 \"PQ\"")]
    [InlineData("IVF1024,PQ7", "token 2 \"PQ7\"")]
    [InlineData("HNSW16,PQ7", "token 2 \"PQ7\"")]
    [InlineData("HNSW16,PQ", "token 2 \"PQ\"")]
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
