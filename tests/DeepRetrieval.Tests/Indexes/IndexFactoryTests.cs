using DeepRetrieval.Indexes;

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
    }

    [Theory]
    [InlineData("SQ8", DeepRetrieval.Quantization.ScalarQuantizerType.SQ8)]
    [InlineData("SQ4", DeepRetrieval.Quantization.ScalarQuantizerType.SQ4)]
    [InlineData("SQfp16", DeepRetrieval.Quantization.ScalarQuantizerType.Fp16)]
    public void Create_ScalarQuantizer_BuildsAnUntrainedCodeIndex(string description, DeepRetrieval.Quantization.ScalarQuantizerType type)
    {
        IVectorIndex index = IndexFactory.Create(8, description);
        index.Should().BeOfType<ScalarQuantizerIndex>().Which.Type.Should().Be(type);
        index.IsTrained.Should().Be(type == DeepRetrieval.Quantization.ScalarQuantizerType.Fp16);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("SQ16", "token 1 \"SQ16\"")]
    [InlineData("HNSW", "HNSW needs its link count M")]
    [InlineData("HNSWx", "\"HNSWx\"")]
    [InlineData("HNSW1", "from 2 to 1024")]
    [InlineData("HNSW16,Flat", "token 2 \"Flat\"")]
    [InlineData("Flat,", "token 2 is empty")]
    [InlineData("Flaat", "token 1 \"Flaat\"")]
    [InlineData("Flat,PQ8", "token 2 \"PQ8\"")]
    public void Create_RejectsMalformedDescriptions_NamingTheToken(string description, string expected)
    {
        FluentActions.Invoking(() => IndexFactory.Create(8, description)).Should().Throw<ArgumentException>().WithMessage($"*{expected}*");
    }
}
