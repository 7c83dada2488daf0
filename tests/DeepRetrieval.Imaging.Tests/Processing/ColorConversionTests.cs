using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Tests.Processing;

public sealed class ColorConversionTests
{
    [Theory]
    [InlineData(255, 0, 0, 76)]   // (255 · 19595 + 32768) >> 16 = 76.7 → 76
    [InlineData(0, 255, 0, 150)]  // (255 · 38470 + 32768) >> 16 = 150.2
    [InlineData(0, 0, 255, 29)]   // (255 · 7471 + 32768) >> 16 = 29.6 → 29
    [InlineData(10, 20, 30, 18)]  // 1,222,248 >> 16 = 18.65 → 18
    [InlineData(255, 255, 255, 255)]
    public void Luma_IsPilsIntegerItuR601(byte r, byte g, byte b, byte expected) =>
        ColorConversion.Luma(r, g, b).Should().Be(expected);

    public static IEnumerable<object[]> AllPhotos => Reference.PhotoNames();

    [Theory]
    [MemberData(nameof(AllPhotos))]
    public void ConvertToGray_EqualsPilConvertL(string name) =>
        Reference.Sha256(Photos.Get(name).ConvertTo(PixelFormat.Gray8)).Should().Be(Reference.Photo(name).GreySha256);

    [Fact]
    public void Conversions_MoveChannels_AndRoundTrip()
    {
        var rgb = new PixelImage(2, 1, PixelFormat.Rgb24, [1, 2, 3, 4, 5, 6]);
        rgb.ConvertTo(PixelFormat.Bgr24).Pixels.ToArray().Should().Equal(3, 2, 1, 6, 5, 4);
        rgb.ConvertTo(PixelFormat.Rgba32).Pixels.ToArray().Should().Equal(1, 2, 3, 255, 4, 5, 6, 255);
        rgb.ConvertTo(PixelFormat.Rgba32).ConvertTo(PixelFormat.Rgb24).Pixels.ToArray().Should().Equal(rgb.Pixels.ToArray());
        new PixelImage(1, 1, PixelFormat.Gray8, [9]).ConvertTo(PixelFormat.Bgr24).Pixels.ToArray().Should().Equal(9, 9, 9);
        rgb.ConvertTo(PixelFormat.Bgr24).ConvertTo(PixelFormat.Gray8).Pixels.ToArray()
            .Should().Equal(rgb.ConvertTo(PixelFormat.Gray8).Pixels.ToArray());
    }

    [Fact]
    public void RgbaToRgb_PacksEveryPixel_AcrossTheVectorTail()
    {
        // 37 pixels: the shuffle loop handles the first ones, the scalar loop the rest.
        var rgba = new PixelImage(37, 1, PixelFormat.Rgba32);
        for (int i = 0; i < rgba.Pixels.Length; i++)
            rgba.Pixels[i] = (byte)(i * 7);
        byte[] rgb = rgba.ConvertTo(PixelFormat.Rgb24).Pixels.ToArray();
        for (int p = 0; p < 37; p++)
            rgb.AsSpan(p * 3, 3).ToArray().Should().Equal((byte)(p * 28), (byte)(p * 28 + 7), (byte)(p * 28 + 14));
    }
}
