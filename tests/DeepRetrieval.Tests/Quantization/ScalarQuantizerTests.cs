using DeepRetrieval.Distances;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Tests.Quantization;

public class ScalarQuantizerTests
{
    [Fact]
    public void Sq8_EncodesAndDecodes_HandWorkedExample()
    {
        // Dimension 0 spans [0, 10], dimension 1 spans [−1, 1]; 256 bins of width 10/256 and 2/256.
        var sq = new ScalarQuantizer(2, ScalarQuantizerType.SQ8);
        sq.IsTrained.Should().BeFalse();
        sq.Train([0f, -1f, 10f, 1f]);
        sq.Minimum.ToArray().Should().Equal(0f, -1f);
        sq.Range.ToArray().Should().Equal(10f, 2f);
        sq.CodeSize.Should().Be(2);

        var codes = new byte[8];
        sq.Encode([5f, 0f, 10f, 1f, 0f, -1f, 3f, 7f], codes);
        // 5 → ⌊0.5 · 256⌋ = 128; the maxima fall in the top bin 255; 3 → ⌊76.8⌋ = 76; 7 is above 1 and clamps.
        codes.Should().Equal(128, 128, 255, 255, 0, 0, 76, 255);

        var decoded = new float[8];
        sq.Decode(codes, decoded);
        // Bin centres: vmin + (code + 0.5) / 256 · vdiff, exact in binary.
        decoded.Should().Equal(5.01953125f, 0.00390625f, 9.98046875f, 0.99609375f, 0.01953125f, -0.99609375f, 2.98828125f, 0.99609375f);
    }

    [Fact]
    public void Sq4_PacksTwoCodesPerByte_LowNibbleFirst_WithOddDimension()
    {
        var sq = new ScalarQuantizer(3, ScalarQuantizerType.SQ4);
        sq.Train([0f, 0f, 0f, 16f, 16f, 16f]); // bins of width 1: code = ⌊x⌋
        sq.CodeSize.Should().Be(2);
        var codes = new byte[4];
        sq.Encode([1f, 2f, 3.9f, 15.5f, 0f, 16f], codes);
        codes.Should().Equal(0x21, 0x03, 0x0F, 0x0F);
        var decoded = new float[6];
        sq.Decode(codes, decoded);
        decoded.Should().Equal(1.5f, 2.5f, 3.5f, 15.5f, 0.5f, 15.5f);
    }

    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, 1, 1)]
    [InlineData(ScalarQuantizerType.SQ4, 1, 1)]
    [InlineData(ScalarQuantizerType.SQ4, 2, 1)]
    [InlineData(ScalarQuantizerType.SQ8, 37, 37)]
    [InlineData(ScalarQuantizerType.SQ4, 37, 19)]
    [InlineData(ScalarQuantizerType.Fp16, 37, 74)]
    [InlineData(ScalarQuantizerType.Fp16, 5, 10)]
    public void CodeSize_FollowsType(ScalarQuantizerType type, int d, int expected) =>
        new ScalarQuantizer(d, type).CodeSize.Should().Be(expected);

    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, 255f)]
    [InlineData(ScalarQuantizerType.SQ4, 15f)]
    public void ReconstructionError_IsWithinOneStep(ScalarQuantizerType type, float steps)
    {
        const int d = 19, n = 500;
        float[] data = TestData.Gaussian(n, d, 11, 3f);
        var sq = new ScalarQuantizer(d, type);
        sq.Train(data);
        var codes = new byte[n * sq.CodeSize];
        var decoded = new float[n * d];
        sq.Encode(data, codes);
        sq.Decode(codes, decoded);
        for (int i = 0; i < data.Length; i++)
            Math.Abs(data[i] - decoded[i]).Should().BeLessThanOrEqualTo(sq.Range[i % d] / steps * 1.0001f);
    }

    [Fact]
    public void Fp16_NeedsNoTraining_AndIsAccurateToHalfPrecision()
    {
        const int d = 21;
        var sq = new ScalarQuantizer(d, ScalarQuantizerType.Fp16);
        sq.IsTrained.Should().BeTrue();
        float[] data = TestData.Gaussian(50, d, 12, 100f);
        data[0] = 1e-6f;   // a half subnormal
        data[1] = 0f;
        data[2] = 1e6f;    // beyond half range: saturates
        var codes = new byte[50 * sq.CodeSize];
        var decoded = new float[data.Length];
        sq.Encode(data, codes);
        sq.Decode(codes, decoded);
        decoded[1].Should().Be(0f);
        decoded[2].Should().Be(65504f);
        decoded[0].Should().BeApproximately(1e-6f, 1e-7f);
        for (int i = 3; i < data.Length; i++)
            Math.Abs(data[i] - decoded[i]).Should().BeLessThanOrEqualTo(1e-3f * Math.Abs(data[i]) + 1e-6f);
    }

    [Theory]
    [InlineData(ScalarQuantizerType.SQ8, 3)]
    [InlineData(ScalarQuantizerType.SQ8, 37)]
    [InlineData(ScalarQuantizerType.SQ8, 64)]
    [InlineData(ScalarQuantizerType.SQ4, 37)]
    [InlineData(ScalarQuantizerType.Fp16, 7)]
    [InlineData(ScalarQuantizerType.Fp16, 45)]
    public void AsymmetricDistances_EqualDistancesToDecodedVector(ScalarQuantizerType type, int d)
    {
        float[] data = TestData.Gaussian(200, d, 13, 2f);
        data[5] = 3e-6f; // exercises the subnormal half path for Fp16
        float[] queries = TestData.Gaussian(10, d, 14, 2f);
        var sq = new ScalarQuantizer(d, type);
        sq.Train(data);
        var codes = new byte[200 * sq.CodeSize];
        var decoded = new float[data.Length];
        sq.Encode(data, codes);
        sq.Decode(codes, decoded);
        for (int q = 0; q < 10; q++)
        {
            var query = queries.AsSpan(q * d, d);
            for (int r = 0; r < 200; r++)
            {
                var code = codes.AsSpan(r * sq.CodeSize, sq.CodeSize);
                var x = decoded.AsSpan(r * d, d);
                float l2 = ScalarDistance.SquaredL2(query, x);
                float ip = ScalarDistance.InnerProduct(query, x);
                sq.SquaredL2(query, code).Should().BeApproximately(l2, 1e-4f * Math.Max(1f, Math.Abs(l2)));
                sq.InnerProduct(query, code).Should().BeApproximately(ip, 1e-4f * Math.Max(1f, Math.Abs(ip)));
            }
        }
    }

    [Fact]
    public void ConstantDimension_DecodesToItsValue()
    {
        var sq = new ScalarQuantizer(2, ScalarQuantizerType.SQ8);
        sq.Train([4f, 1f, 4f, 2f]);
        var codes = new byte[2];
        sq.Encode([9f, 1.5f], codes);
        var decoded = new float[2];
        sq.Decode(codes, decoded);
        decoded[0].Should().Be(4f);
    }

    [Fact]
    public void BadInput_GetsClearExceptions()
    {
        var sq = new ScalarQuantizer(2, ScalarQuantizerType.SQ8);
        FluentActions.Invoking(() => sq.Encode([1f, 2f], new byte[2])).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        FluentActions.Invoking(() => sq.SquaredL2([1f, 2f], new byte[2])).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => sq.Train([1f, float.NaN])).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => sq.Train([1f, float.PositiveInfinity])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => sq.Train([1f, 2f, 3f])).Should().Throw<ArgumentException>().WithMessage("*dimension 2*");
        FluentActions.Invoking(() => sq.Train([])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => sq.Train([-3e38f, 0f, 3e38f, 0f])).Should().Throw<ArgumentException>().WithMessage("*Row 0, component 0*at most*");
        sq.IsTrained.Should().BeFalse("failed training must leave the quantizer untrained");
        sq.Train([0f, 0f, 1f, 1f]);
        FluentActions.Invoking(() => sq.Encode([1f, 2f], new byte[1])).Should().Throw<ArgumentException>().WithParameterName("codes");
        FluentActions.Invoking(() => sq.Decode(new byte[3], new float[4])).Should().Throw<ArgumentException>().WithParameterName("codes");
        FluentActions.Invoking(() => sq.Decode(new byte[4], new float[3])).Should().Throw<ArgumentException>().WithParameterName("vectors");
        FluentActions.Invoking(() => sq.SquaredL2([1f], new byte[2])).Should().Throw<ArgumentException>().WithParameterName("query");
        FluentActions.Invoking(() => sq.InnerProduct([1f, 2f], new byte[3])).Should().Throw<ArgumentException>().WithParameterName("code");
        FluentActions.Invoking(() => new ScalarQuantizer(0, ScalarQuantizerType.SQ8)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ScalarQuantizer(2, (ScalarQuantizerType)9)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
