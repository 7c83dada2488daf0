using DeepRetrieval.Pooling;

namespace DeepRetrieval.Tests.Pooling;

public class GemPoolingTests
{
    [Fact]
    public void Pool_WithP3_IsTheCubeRootOfTheMeanCube()
    {
        // One 2 × 2 channel: ((1 + 8 + 27 + 64) / 4)^(1/3) = 25^(1/3).
        var pooled = new float[1];
        new GemPooling(3f).Pool([1, 2, 3, 4], new FeatureMapShape(1, 2, 2), pooled);
        pooled[0].Should().BeApproximately(MathF.Cbrt(25f), 1e-6f);
    }

    [Fact]
    public void Pool_ClampsNegativeAndZeroActivationsToEpsilon()
    {
        // -1 and 0 become 1e-6 (their cubes vanish): (( 512 + 512) / 4)^(1/3) = 256^(1/3).
        var pooled = new float[1];
        new GemPooling(3f).Pool([-1, 0, 8, 8], new FeatureMapShape(1, 2, 2), pooled);
        pooled[0].Should().BeApproximately(MathF.Cbrt(256f), 1e-5f);

        // All activations below ε pool to ε itself.
        new GemPooling(2f, epsilon: 0.5f).Pool([-3, 0.1f, 0.2f, -1], new FeatureMapShape(1, 2, 2), pooled);
        pooled[0].Should().BeApproximately(0.5f, 1e-7f);
    }

    [Fact]
    public void Pool_WithP1_IsTheMeanAndWithP2_TheRootMeanSquare()
    {
        float[] maps = [3, 4, 0.5f, 2.5f];
        var pooled = new float[1];
        new GemPooling(1f).Pool(maps, new FeatureMapShape(1, 2, 2), pooled);
        pooled[0].Should().BeApproximately(2.5f, 1e-6f);
        new GemPooling(2f).Pool(maps, new FeatureMapShape(1, 2, 2), pooled);
        pooled[0].Should().BeApproximately(MathF.Sqrt((9 + 16 + 0.25f + 6.25f) / 4), 1e-6f);
    }

    [Fact]
    public void Pool_WithANonIntegerP_UsesThePower()
    {
        // p = 2.5 on [1, 4]: ((1 + 32) / 2)^(1/2.5) = 16.5^0.4.
        var pooled = new float[1];
        new GemPooling(2.5f).Pool([1, 4], new FeatureMapShape(1, 1, 2), pooled);
        pooled[0].Should().BeApproximately((float)Math.Pow(16.5, 0.4), 1e-5f);
    }

    [Fact]
    public void Pool_WithLargeP_ApproachesTheMaximum()
    {
        // (mean xᵖ)^(1/p) lies between max · (1/HW)^(1/p) and max.
        float[] maps = [0.2f, 1.7f, 0.9f, 1.1f];
        var pooled = new float[1];
        new GemPooling(64f).Pool(maps, new FeatureMapShape(1, 2, 2), pooled);
        pooled[0].Should().BeLessThanOrEqualTo(1.7f * 1.000001f).And.BeGreaterThan(1.7f * MathF.Pow(0.25f, 1f / 64) * 0.99999f);
    }

    [Fact]
    public void Pool_WithPerChannelP_UsesEachChannelsExponent()
    {
        // Channel 0 with p = 1: mean 2.5; channel 1 with p = 3: 25^(1/3).
        var pooled = new float[2];
        new GemPooling([1f, 3f]).Pool([1, 2, 3, 4, 1, 2, 3, 4], new FeatureMapShape(2, 2, 2), pooled);
        pooled[0].Should().BeApproximately(2.5f, 1e-6f);
        pooled[1].Should().BeApproximately(MathF.Cbrt(25f), 1e-6f);
    }

    [Fact]
    public void Pool_PoolsEveryItemOfABatchOnItsOwn()
    {
        float[] maps = TestData.Gaussian(5, 3 * 4 * 6, 7);
        var shape = new FeatureMapShape(3, 4, 6);
        var gem = new GemPooling(3f);
        var batch = new float[5 * 3];
        gem.Pool(maps, shape, batch);
        for (int item = 0; item < 5; item++)
        {
            var single = new float[3];
            gem.Pool(maps.AsSpan(item * shape.Length, shape.Length), shape, single);
            batch.AsSpan(item * 3, 3).ToArray().Should().Equal(single);
        }
    }

    [Fact]
    public void Pool_RejectsMapsThatAreNotWholeItemsOrAnOutputOfTheWrongLength()
    {
        var gem = new GemPooling();
        var shape = new FeatureMapShape(2, 2, 2);
        FluentActions.Invoking(() => gem.Pool(new float[9], shape, new float[2])).Should().Throw<ArgumentException>().WithMessage("*whole items of 2 × 2 × 2 = 8*");
        FluentActions.Invoking(() => gem.Pool(new float[16], shape, new float[2])).Should().Throw<ArgumentException>().WithMessage("*2 descriptors of 2 values (4)*");
        FluentActions.Invoking(() => gem.Pool(new float[8], new FeatureMapShape(2, 0, 4), new float[2])).Should().Throw<ArgumentException>().WithMessage("*at least one channel and one location*");
    }

    [Fact]
    public void Pool_RejectsAChannelCountOtherThanThePerChannelExponents()
    {
        var gem = new GemPooling([3f, 3f, 3f]);
        FluentActions.Invoking(() => gem.Pool(new float[8], new FeatureMapShape(2, 2, 2), new float[2])).Should().Throw<ArgumentException>().WithMessage("*3 channels; the maps have 2*");
        FluentActions.Invoking(() => gem.OutputDimension(2)).Should().Throw<ArgumentOutOfRangeException>();
        gem.OutputDimension(3).Should().Be(3);
    }

    [Theory]
    [InlineData(0f, 1e-6f)]
    [InlineData(-1f, 1e-6f)]
    [InlineData(float.NaN, 1e-6f)]
    [InlineData(float.PositiveInfinity, 1e-6f)]
    [InlineData(3f, 0f)]
    [InlineData(3f, float.NaN)]
    public void Constructor_RejectsNonPositiveOrNonFiniteParameters(float p, float epsilon)
    {
        FluentActions.Invoking(() => new GemPooling(p, epsilon)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Constructor_RejectsAnEmptyOrInvalidExponentList()
    {
        FluentActions.Invoking(() => new GemPooling(Array.Empty<float>())).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new GemPooling([3f, -1f])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("perChannelP");
    }
}
