using DeepRetrieval.Distances;

namespace DeepRetrieval.Tests.Distances;

public class DistanceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(47)]
    [InlineData(48)]
    [InlineData(64)]
    [InlineData(784)]
    [InlineData(799)]
    public void FourRowKernels_EqualTheOneRowKernels_BitForBit(int length)
    {
        // The graph search mixes the two kernels; a distance must not depend on which of them computed it.
        float[] data = TestData.Gaussian(5, length, length);
        ref float x = ref data[0];
        ref float y0 = ref data[length];
        ref float y1 = ref data[2 * length];
        ref float y2 = ref data[3 * length];
        ref float y3 = ref data[4 * length];
        var l2 = Distance.SquaredL2Unchecked4(ref x, ref y0, ref y1, ref y2, ref y3, length);
        var ip = Distance.InnerProductUnchecked4(ref x, ref y0, ref y1, ref y2, ref y3, length);
        for (int r = 0; r < 4; r++)
        {
            ref float y = ref data[(r + 1) * length];
            l2[r].Should().Be(Distance.SquaredL2Unchecked(ref x, ref y, length), $"row {r}");
            ip[r].Should().Be(Distance.InnerProductUnchecked(ref x, ref y, length), $"row {r}");
            l2[r].Should().BeApproximately(ScalarDistance.SquaredL2(data.AsSpan(0, length), data.AsSpan((r + 1) * length, length)), 1e-3f * length);
        }
    }

    [Fact]
    public void SquaredL2_MatchesHandWorkedValue()
    {
        // (1−4)² + (2−6)² + (3−3)² = 9 + 16 + 0 = 25
        Distance.SquaredL2([1f, 2f, 3f], [4f, 6f, 3f]).Should().Be(25f);
        ScalarDistance.SquaredL2([1f, 2f, 3f], [4f, 6f, 3f]).Should().Be(25f);
    }

    [Fact]
    public void InnerProductAndCosine_MatchHandWorkedValues()
    {
        // 1·4 + 2·5 + 3·6 = 32; ‖(1,2,3)‖ = √14, ‖(4,5,6)‖ = √77, cos = 32/√1078
        Distance.InnerProduct([1f, 2f, 3f], [4f, 5f, 6f]).Should().Be(32f);
        Distance.Cosine([1f, 2f, 3f], [4f, 5f, 6f]).Should().BeApproximately((float)(32 / Math.Sqrt(1078)), 1e-6f);
        Distance.Cosine([0f, 0f], [1f, 1f]).Should().Be(0f);
    }

    [Fact]
    public void Hamming_CountsDifferingBits()
    {
        // 0b1010_1010 ^ 0b0101_0101 = 0xFF (8 bits); 9 bytes exercise the 64-bit path and the tail
        byte[] x = [0xAA, 0, 0, 0, 0, 0, 0, 0x01, 0xF0];
        byte[] y = [0x55, 0, 0, 0, 0, 0, 0, 0x00, 0x0F];
        Distance.Hamming(x, y).Should().Be(8 + 1 + 8);
        ScalarDistance.Hamming(x, y).Should().Be(17);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(128)]
    [InlineData(784)]
    [InlineData(1001)]
    public void SimdKernels_AgreeWithScalarReference(int dimension)
    {
        float[] x = TestData.Gaussian(1, dimension, 1), y = TestData.Gaussian(1, dimension, 2);
        float tolerance = 1e-5f * dimension;
        Distance.SquaredL2(x, y).Should().BeApproximately(ScalarDistance.SquaredL2(x, y), tolerance);
        Distance.InnerProduct(x, y).Should().BeApproximately(ScalarDistance.InnerProduct(x, y), tolerance);
        Distance.Cosine(x, y).Should().BeApproximately(ScalarDistance.Cosine(x, y), 1e-5f);
        byte[] a = new byte[dimension], b = new byte[dimension];
        new Random(dimension).NextBytes(a);
        new Random(dimension + 1).NextBytes(b);
        Distance.Hamming(a, b).Should().Be(ScalarDistance.Hamming(a, b));
    }

    [Fact]
    public void Distances_RejectMismatchedDimensions()
    {
        var act = () => Distance.SquaredL2([1f, 2f], [1f]);
        act.Should().Throw<ArgumentException>().WithMessage("*same dimension*2*1*");
        var hamming = () => Distance.Hamming([1], [1, 2]);
        hamming.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Compute_DispatchesOnMetric()
    {
        float[] x = [1f, 0f], y = [0f, 2f];
        Distance.Compute(Metric.L2, x, y).Should().Be(5f);
        Distance.Compute(Metric.InnerProduct, x, y).Should().Be(0f);
        Distance.Compute(Metric.Cosine, x, y).Should().Be(0f);
    }
}
