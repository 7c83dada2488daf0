using System.Runtime.Intrinsics.X86;
using DeepRetrieval.Quantization;
using FluentAssertions;

namespace DeepRetrieval.Tests.Quantization;

public unsafe class Sq8IntegerL2Tests
{
    // Random steps (some zero, some tiny), query codes and four stored codes, with the extremes 0 and 255 forced in so the
    // 16-bit products and the 32-bit lanes see their largest values.
    private static (Sq8IntegerL2 Kernel, short[] Query, byte[] Codes) Case(int d, int seed)
    {
        var random = new Random(seed);
        var steps = new float[d];
        for (int j = 0; j < d; j++) steps[j] = j % 7 == 3 ? 0f : j % 11 == 5 ? 1e-4f : (float)random.NextDouble() * 2f;
        var query = new short[d];
        var codes = new byte[4 * d];
        for (int j = 0; j < d; j++) query[j] = (short)(j % 5 == 0 ? 255 : random.Next(256));
        random.NextBytes(codes);
        for (int j = 0; j < d; j += 5) codes[j] = 0;
        return (new Sq8IntegerL2(steps), query, codes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(63)]
    [InlineData(784)]
    [InlineData(4133)]
    public void VectorPaths_EqualScalarSum(int d)
    {
        (Sq8IntegerL2 kernel, short[] query, byte[] codes) = Case(d, d);
        fixed (short* q = query)
        fixed (byte* c = codes)
        {
            for (int r = 0; r < 4; r++)
            {
                long expected = kernel.SumScalar(q, c + r * d);
                expected.Should().BeGreaterThan(0);
                if (Avx512BW.IsSupported && d >= 32) kernel.Sum512(q, c + r * d).Should().Be(expected);
                if (Avx2.IsSupported && d >= 16) kernel.Sum256(q, c + r * d).Should().Be(expected);
                kernel.Sum(q, c + r * d).Should().Be(expected);
                kernel.Of(q, c + r * d).Should().Be(expected * kernel.Unit);
            }
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(32)]
    [InlineData(47)]
    [InlineData(784)]
    [InlineData(2100)]
    public void FourRows_EqualOneRowEach(int d)
    {
        (Sq8IntegerL2 kernel, short[] query, byte[] codes) = Case(d, 100 + d);
        fixed (short* q = query)
        fixed (byte* c = codes)
        {
            var four = kernel.Of4(q, c, c + d, c + 2 * d, c + 3 * d);
            for (int r = 0; r < 4; r++) four[r].Should().Be(kernel.Of(q, c + r * d));
        }
    }

    [Fact]
    public void LargestWeights_DoNotOverflow()
    {
        // Every component at the largest difference and weight, over several 2,048-component blocks.
        const int d = 5000;
        var steps = Enumerable.Repeat(1f, d).ToArray();
        var kernel = new Sq8IntegerL2(steps);
        var query = Enumerable.Repeat((short)255, d).ToArray();
        var codes = new byte[4 * d];
        fixed (short* q = query)
        fixed (byte* c = codes)
        {
            long expected = (long)d * Sq8IntegerL2.MaxWeight * 255 * 255;
            kernel.Sum(q, c).Should().Be(expected);
            kernel.Of4(q, c, c + d, c + 2 * d, c + 3 * d)[3].Should().Be(expected * kernel.Unit);
        }
    }

    [Fact]
    public void HugeSteps_StillGiveFiniteOrderedKeys()
    {
        // Steps as large as a hostile file's ranges allow: squares beyond float range must not turn keys into ∞ or NaN.
        var kernel = new Sq8IntegerL2([1e36f, 1e36f, 3e35f]);
        var query = new short[] { 255, 0, 10 };
        var codes = new byte[] { 255, 0, 10, 0, 0, 10, 0, 0, 0, 255, 255, 255 };
        fixed (short* q = query)
        fixed (byte* c = codes)
        {
            var four = kernel.Of4(q, c, c + 3, c + 6, c + 9);
            for (int r = 0; r < 4; r++) float.IsFinite(four[r]).Should().BeTrue();
            four[0].Should().Be(0f);
            four[1].Should().BeGreaterThan(0f);
        }
    }

    [Fact]
    public void EqualRanges_GiveTheSquaredDistanceOfTheDecodedVectors()
    {
        // With one range in every dimension all weights are equal and the key is the decoded codes' distance exactly.
        const int d = 40;
        var data = TestData.Gaussian(300, d, 5);
        var quantizer = new ScalarQuantizer(d, ScalarQuantizerType.SQ8);
        var bounds = new float[2 * d];
        for (int j = 0; j < d; j++) (bounds[j], bounds[d + j]) = (-4f, 4f);
        quantizer.Train(bounds);
        Sq8IntegerL2 kernel = quantizer.IntegerL2;
        kernel.Weights.ToArray().Should().AllBeEquivalentTo((short)Sq8IntegerL2.MaxWeight);
        var codes = new byte[300 * d];
        quantizer.Encode(data, codes);
        var query = new short[d];
        var decodedQuery = new float[d];
        quantizer.Decode(codes.AsSpan(0, d), decodedQuery);
        var decoded = new float[d];
        fixed (short* q = query)
        fixed (byte* c = codes)
        {
            Sq8IntegerL2.EncodeQuery(quantizer, data.AsSpan(0, d), q);
            for (int r = 0; r < 300; r++)
            {
                quantizer.Decode(codes.AsSpan(r * d, d), decoded);
                float exact = DeepRetrieval.Distances.Distance.SquaredL2(decodedQuery, decoded);
                kernel.Of(q, c + r * d).Should().BeApproximately(exact, 1e-4f * (1 + exact));
            }
        }
    }

    [Fact]
    public void Retraining_RebuildsTheKernel()
    {
        var quantizer = new ScalarQuantizer(8, ScalarQuantizerType.SQ8);
        quantizer.Train(TestData.Gaussian(50, 8, 1));
        Sq8IntegerL2 first = quantizer.IntegerL2;
        quantizer.IntegerL2.Should().BeSameAs(first);
        quantizer.Train(TestData.Gaussian(50, 8, 2, scale: 3f));
        quantizer.IntegerL2.Should().NotBeSameAs(first);
        FluentActions.Invoking(() => new ScalarQuantizer(8, ScalarQuantizerType.SQ4).IntegerL2).Should().Throw<InvalidOperationException>();
    }
}

public class ScalarQuantizerFourRowTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(48)]
    [InlineData(784)]
    public void Sq8Distance4_EqualsFourSingleDistances_BitForBit(int d)
    {
        var data = TestData.Gaussian(64, d, d);
        var quantizer = new ScalarQuantizer(d, ScalarQuantizerType.SQ8);
        quantizer.Train(data);
        var codes = new byte[64 * d];
        quantizer.Encode(data, codes);
        float[] query = TestData.Gaussian(1, d, 1000 + d, scale: 1.3f);
        foreach (bool l2 in new[] { true, false })
        {
            for (int r = 0; r + 4 <= 64; r += 4)
            {
                var four = quantizer.Sq8Distance4(query, codes.AsSpan(r * d, d), codes.AsSpan((r + 1) * d, d),
                    codes.AsSpan((r + 2) * d, d), codes.AsSpan((r + 3) * d, d), l2);
                for (int i = 0; i < 4; i++)
                {
                    float one = l2 ? quantizer.SquaredL2(query, codes.AsSpan((r + i) * d, d)) : quantizer.InnerProduct(query, codes.AsSpan((r + i) * d, d));
                    BitConverter.SingleToInt32Bits(four[i]).Should().Be(BitConverter.SingleToInt32Bits(one));
                }
            }
        }
    }
}
