using DeepRetrieval.Pooling;

namespace DeepRetrieval.Tests.Pooling;

public class RmacPoolingTests
{
    // The expected regions are cirtorch's, printed (top, left, size) by its rmac region loop under PyTorch 1.13 (the script is in
    // tests/DeepRetrieval.Torch.Tests/Pooling/RMACTests.cs, which checks the TorchSharp layer against the same lists). 5 × 9 is a
    // float32 tie in the overlap choice and 2 × 32 a float32 rounding of the starts.
    [Theory]
    [InlineData(3, 3, "0,0,3 0,0,2 0,1,2 1,0,2 1,1,2 0,0,1 0,1,1 0,2,1 1,0,1 1,1,1 1,2,1 2,0,1 2,1,1 2,2,1")]
    [InlineData(5, 9, "0,0,5 0,4,5 0,0,3 0,3,3 0,6,3 2,0,3 2,3,3 2,6,3 0,0,2 0,2,2 0,4,2 0,7,2 1,0,2 1,2,2 1,4,2 1,7,2 3,0,2 3,2,2 3,4,2 3,7,2")]
    [InlineData(2, 32, "0,0,2 0,5,2 0,10,2 0,15,2 0,20,2 0,25,2 0,30,2 0,0,1 0,4,1 0,8,1 0,13,1 0,17,1 0,22,1 0,26,1 0,30,1 1,0,1 1,4,1 1,8,1 1,13,1 1,17,1 1,22,1 1,26,1 1,30,1 0,0,1 0,3,1 0,7,1 0,11,1 0,15,1 0,19,1 0,23,1 0,27,1 0,31,1 0,0,1 0,3,1 0,7,1 0,11,1 0,15,1 0,19,1 0,23,1 0,27,1 0,31,1 1,0,1 1,3,1 1,7,1 1,11,1 1,15,1 1,19,1 1,23,1 1,27,1 1,31,1")]
    [InlineData(7, 10, "0,0,7 0,3,7 0,0,4 0,3,4 0,6,4 3,0,4 3,3,4 3,6,4 0,0,3 0,2,3 0,4,3 0,7,3 2,0,3 2,2,3 2,4,3 2,7,3 4,0,3 4,2,3 4,4,3 4,7,3")]
    public void Regions_MatchCirtorch(int height, int width, string expected)
    {
        RmacRegion[] regions = expected.Split(' ').Select(r => r.Split(',').Select(int.Parse).ToArray())
            .Select(v => new RmacRegion(v[0], v[1], v[2])).ToArray();
        RmacPooling.Regions(height, width, 3).Should().Equal(regions);
    }

    [Fact]
    public void Regions_SkipScalesWhoseSideWouldBeZero()
    {
        // A 1 × 1 map: side ⌊2 / (l + 1)⌋ is 1 at l = 1 and 0 beyond.
        RmacPooling.Regions(1, 1, 3).Should().Equal(new RmacRegion(0, 0, 1));
    }

    [Fact]
    public void Pool_MatchesCirtorchRmacFollowedByL2Normalisation()
    {
        // PyTorch 1.13 in float64 (see RMACTests in the Torch tests): cirtorch's rmac on this 2 × 3 × 4 map, then F.normalize, gives
        // [0.7000064188286708, 0.714136551087157].
        float[] maps = [0.1f, 0.9f, 0.3f, 0.4f, 0.5f, 0.2f, 0.8f, 0.0f, 0.7f, 0.6f, 0.1f, 0.2f,
                        0.3f, 0.2f, 0.1f, 0.9f, 0.4f, 0.8f, 0.5f, 0.6f, 0.2f, 0.0f, 0.7f, 0.3f];
        var pooled = new float[2];
        new RmacPooling().Pool(maps, new FeatureMapShape(2, 3, 4), pooled);
        pooled[0].Should().BeApproximately(0.7000064188286708f, 1e-6f);
        pooled[1].Should().BeApproximately(0.714136551087157f, 1e-6f);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(5, 9)]
    [InlineData(9, 4)]
    public void Pool_IsTheNormalisedSumOfNormalisedRegionMaxima_IncludingRepeatedRegions(int height, int width)
    {
        const int channels = 3;
        float[] maps = TestData.Gaussian(1, channels * height * width, height * 31 + width);
        var expected = new double[channels];
        var regions = RmacPooling.Regions(height, width, 3).Prepend(new RmacRegion(0, 0, -1));
        foreach (RmacRegion region in regions)
        {
            var max = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                max[c] = double.NegativeInfinity;
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                    {
                        bool inside = region.Size < 0 || (y >= region.Top && y < region.Top + region.Size && x >= region.Left && x < region.Left + region.Size);
                        if (inside) max[c] = Math.Max(max[c], maps[(c * height + y) * width + x]);
                    }
            }
            double norm = Math.Sqrt(max.Sum(v => v * v)) + 1e-6;
            for (int c = 0; c < channels; c++) expected[c] += max[c] / norm;
        }
        double total = Math.Sqrt(expected.Sum(v => v * v));
        var pooled = new float[channels];
        new RmacPooling().Pool(maps, new FeatureMapShape(channels, height, width), pooled);
        for (int c = 0; c < channels; c++) pooled[c].Should().BeApproximately((float)(expected[c] / total), 1e-6f);
    }

    [Fact]
    public void Pool_WithoutTheWholeMapOnA1x1Map_IsTheNormalisedMac()
    {
        var pooled = new float[4];
        new RmacPooling(includeWholeMap: false).Pool([3, -4, 3, 4], new FeatureMapShape(2, 1, 1), pooled);
        pooled.Should().Equal([0.6f, -0.8f, 0.6f, 0.8f], (a, b) => MathF.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void Pool_GivesUnitLengthDescriptorsAndAZeroMapStaysZero()
    {
        float[] maps = TestData.Gaussian(2, 4 * 7 * 7, 3);
        maps.AsSpan(4 * 7 * 7).Clear();
        var pooled = new float[8];
        new RmacPooling().Pool(maps, new FeatureMapShape(4, 7, 7), pooled);
        Math.Sqrt(pooled.Take(4).Sum(v => (double)v * v)).Should().BeApproximately(1.0, 1e-6);
        pooled.Skip(4).Should().AllBeEquivalentTo(0f);
    }

    [Fact]
    public void Constructor_RejectsInvalidParameters()
    {
        FluentActions.Invoking(() => new RmacPooling(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new RmacPooling(epsilon: -1e-3f)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => RmacPooling.Regions(0, 4, 3)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
