using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Tests.Indexes;

public class PqIndexFactoryTests
{
    [Theory]
    [InlineData("PQ8", 8, 8)]
    [InlineData("PQ16x4", 16, 4)]
    [InlineData("PQ4x6", 4, 6)]
    public void Create_Pq_BuildsAnUntrainedPqIndex(string description, int m, int bits)
    {
        IVectorIndex index = IndexFactory.Create(32, description, Metric.InnerProduct);
        var pq = index.Should().BeOfType<PqIndex>().Subject;
        pq.Quantizer.SubQuantizers.Should().Be(m);
        pq.Quantizer.BitsPerCode.Should().Be(bits);
        pq.Metric.Should().Be(Metric.InnerProduct);
        pq.IsTrained.Should().BeFalse();
        pq.Kind.Should().Be("PQ");
    }

    [Theory]
    [InlineData("PQ", "PQ needs its sub-quantizer count")]
    [InlineData("PQ0", "PQ needs")]
    [InlineData("PQ8x3", "4 to 8 bits")]
    [InlineData("PQ8x", "PQ needs")]
    [InlineData("PQ8x4x4", "PQ needs")]
    [InlineData("PQ5", "not a multiple of the sub-quantizer count 5")]
    public void Create_RejectsMalformedPqTokens(string description, string expected)
    {
        FluentActions.Invoking(() => IndexFactory.Create(32, description)).Should().Throw<ArgumentException>().WithMessage($"*{expected}*");
    }

    [Fact]
    public void Create_OpqWithOutputDimension_ThenPq_ChainsTheDimensions()
    {
        IVectorIndex index = IndexFactory.Create(128, "OPQ16_64,PQ16x4");
        var transformed = index.Should().BeOfType<TransformedIndex>().Subject;
        transformed.Dimension.Should().Be(128);
        var opq = transformed.Transforms.Should().ContainSingle().Which.Should().BeOfType<OpqTransform>().Subject;
        opq.InputDimension.Should().Be(128);
        opq.OutputDimension.Should().Be(64);
        opq.SubQuantizers.Should().Be(16);
        opq.BitsPerCode.Should().Be(4, "OPQ follows the code width of the PQ after it");
        var pq = transformed.Inner.Should().BeOfType<PqIndex>().Subject;
        pq.Dimension.Should().Be(64);
        pq.Quantizer.SubQuantizers.Should().Be(16);
    }

    [Theory]
    [InlineData("PCA32,Flat", false, false)]
    [InlineData("PCAW32,Flat", true, false)]
    [InlineData("PCAR32,Flat", false, true)]
    [InlineData("PCAWR32,Flat", true, true)]
    public void Create_PcaVariants_BuildAPcaTransform(string description, bool whiten, bool rotate)
    {
        var transformed = (TransformedIndex)IndexFactory.Create(100, description, Metric.InnerProduct);
        var pca = transformed.Transforms.Single().Should().BeOfType<PcaTransform>().Subject;
        pca.OutputDimension.Should().Be(32);
        pca.Whiten.Should().Be(whiten);
        pca.RandomRotation.Should().Be(rotate);
        transformed.Inner.Should().BeOfType<FlatIndex>().Which.Dimension.Should().Be(32);
        transformed.Metric.Should().Be(Metric.InnerProduct);
    }

    [Fact]
    public void Create_ChainsSeveralTransforms()
    {
        var transformed = (TransformedIndex)IndexFactory.Create(64, "PCA48,OPQ8,PQ8");
        transformed.Transforms.Select(t => (t.Kind, t.InputDimension, t.OutputDimension)).Should().Equal(("PCA", 64, 48), ("OPQ", 48, 48));
        transformed.Inner.Dimension.Should().Be(48);
        ((OpqTransform)transformed.Transforms[1]).BitsPerCode.Should().Be(8);
    }

    [Theory]
    [InlineData("PCA32", "token 1 \"PCA32\" is a transform; an index must follow it")]
    [InlineData("PCA200,Flat", "200 output dimensions from 64 input dimensions")]
    [InlineData("PCAx,Flat", "token 1 \"PCAx\"")]
    [InlineData("OPQ,PQ8", "needs the sub-quantizer count")]
    [InlineData("OPQ5,PQ8", "multiple of its 5 sub-quantizers")]
    [InlineData("OPQ8_128,PQ8", "128 output dimensions from 64")]
    [InlineData("OPQ8_32,PQ5", "not a multiple of the sub-quantizer count 5")]
    [InlineData("PCA32,Flaat", "token 2 \"Flaat\"")]
    [InlineData("PCA32,Flat,Flat", "token 3 \"Flat\"")]
    public void Create_RejectsMalformedTransformTokens(string description, string expected)
    {
        FluentActions.Invoking(() => IndexFactory.Create(64, description)).Should().Throw<ArgumentException>().WithMessage($"*{expected}*");
    }
}
