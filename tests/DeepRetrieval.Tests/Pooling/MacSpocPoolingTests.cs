using DeepRetrieval.Pooling;

namespace DeepRetrieval.Tests.Pooling;

public class MacSpocPoolingTests
{
    // Two images of two 2 × 3 channels.
    private static readonly float[] Maps =
    [
        1, -2, 3, 0, 5, 1,      -1, -2, -3, -4, -5, -6,
        0, 0, 0, 0, 0, 7,       2, 2, 2, 2, 2, 2,
    ];

    private static readonly FeatureMapShape Shape = new(2, 2, 3);

    [Fact]
    public void Mac_TakesEachChannelsLargestValue()
    {
        var pooled = new float[4];
        new MacPooling().Pool(Maps, Shape, pooled);
        pooled.Should().Equal(5, -1, 7, 2);
    }

    [Fact]
    public void Spoc_TakesEachChannelsMean()
    {
        var pooled = new float[4];
        new SpocPooling().Pool(Maps, Shape, pooled);
        pooled.Should().Equal([8f / 6, -21f / 6, 7f / 6, 2f], (a, b) => MathF.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void MacAndSpoc_RejectAnOutputOfTheWrongLength()
    {
        FluentActions.Invoking(() => new MacPooling().Pool(Maps, Shape, new float[3])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new SpocPooling().Pool(Maps, Shape, new float[5])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void OutputDimension_IsTheChannelCount()
    {
        new MacPooling().OutputDimension(512).Should().Be(512);
        new SpocPooling().OutputDimension(3).Should().Be(3);
        FluentActions.Invoking(() => new SpocPooling().OutputDimension(0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
