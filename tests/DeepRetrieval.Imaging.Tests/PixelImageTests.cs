namespace DeepRetrieval.Imaging.Tests;

public sealed class PixelImageTests
{
    [Fact]
    public void Constructor_WrapsAnInterleavedBuffer()
    {
        byte[] pixels = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        var image = new PixelImage(2, 2, PixelFormat.Rgb24, pixels);
        (image.Channels, image.Stride).Should().Be((3, 6));
        image.GetRow(1).ToArray().Should().Equal(7, 8, 9, 10, 11, 12);
        pixels[0] = 99;
        image.Pixels[0].Should().Be(99, "the buffer is wrapped, not copied");
        image.Clone().Pixels.ToArray().Should().Equal(image.Pixels.ToArray());
    }

    [Fact]
    public void Constructor_RejectsMismatchedBuffersAndSizes()
    {
        ((Action)(() => new PixelImage(2, 2, PixelFormat.Rgb24, new byte[11]))).Should().Throw<ArgumentException>().WithMessage("*needs 12 bytes*11*");
        ((Action)(() => new PixelImage(0, 2, PixelFormat.Gray8))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new PixelImage(50_000, 50_000, PixelFormat.Rgba32))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new PixelImage(2, 2, (PixelFormat)9))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new PixelImage(2, 2, PixelFormat.Gray8).GetRow(2))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
