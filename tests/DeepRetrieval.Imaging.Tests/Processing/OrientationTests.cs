using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Tests.Processing;

public sealed class OrientationTests
{
    // 3 × 2:  1 2 3
    //         4 5 6
    private static PixelImage Sample() => new(3, 2, PixelFormat.Gray8, [1, 2, 3, 4, 5, 6]);

    [Theory]
    [InlineData(ImageOrientation.TopLeft, 3, new byte[] { 1, 2, 3, 4, 5, 6 })]
    [InlineData(ImageOrientation.TopRight, 3, new byte[] { 3, 2, 1, 6, 5, 4 })]
    [InlineData(ImageOrientation.BottomRight, 3, new byte[] { 6, 5, 4, 3, 2, 1 })]
    [InlineData(ImageOrientation.BottomLeft, 3, new byte[] { 4, 5, 6, 1, 2, 3 })]
    [InlineData(ImageOrientation.LeftTop, 2, new byte[] { 1, 4, 2, 5, 3, 6 })]     // transpose
    [InlineData(ImageOrientation.RightTop, 2, new byte[] { 4, 1, 5, 2, 6, 3 })]    // turn 90° clockwise
    [InlineData(ImageOrientation.RightBottom, 2, new byte[] { 6, 3, 5, 2, 4, 1 })] // transverse
    [InlineData(ImageOrientation.LeftBottom, 2, new byte[] { 3, 6, 2, 5, 1, 4 })]  // turn 90° counter-clockwise
    public void ApplyOrientation_MovesPixelsAsExifSays(ImageOrientation orientation, int width, byte[] expected)
    {
        PixelImage upright = Sample().ApplyOrientation(orientation);
        upright.Width.Should().Be(width);
        upright.Pixels.ToArray().Should().Equal(expected);
    }

    [Fact]
    public void Rotations_AndFlips_ComposeAsExpected()
    {
        PixelImage image = Photos.Get("chelsea");
        image.RotateCounterClockwise(1).RotateCounterClockwise(-1).Pixels.ToArray().Should().Equal(image.Pixels.ToArray());
        image.RotateCounterClockwise(2).Pixels.ToArray().Should().Equal(image.FlipHorizontal().FlipVertical().Pixels.ToArray());
        Sample().RotateCounterClockwise(1).Pixels.ToArray().Should().Equal(3, 6, 2, 5, 1, 4);
    }
}
