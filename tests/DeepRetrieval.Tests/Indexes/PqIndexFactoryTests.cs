using DeepRetrieval.Indexes;

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
}
