using DeepRetrieval.OnnxRuntime.Preprocessing;

namespace DeepRetrieval.OnnxRuntime.Tests.Preprocessing;

public class InputNormalizationTests
{
    // A 5 × 7 RGB image and torchvision's ToTensor() + Normalize(ImageNet) of it, from Reference/make_fixtures.py.
    private static byte[] RgbPixels() => TestFiles.Npy("pixels_5x7_rgb.npy").Select(v => (byte)v).ToArray();

    private static byte[] Reorder(byte[] rgb, PixelFormat format)
    {
        int pixels = rgb.Length / 3, bytes = InputNormalization.BytesPerPixel(format);
        var result = new byte[pixels * bytes];
        for (int i = 0; i < pixels; i++)
        {
            byte r = rgb[i * 3], g = rgb[i * 3 + 1], b = rgb[i * 3 + 2];
            switch (format)
            {
                case PixelFormat.Rgb24: (result[i * 3], result[i * 3 + 1], result[i * 3 + 2]) = (r, g, b); break;
                case PixelFormat.Bgr24: (result[i * 3], result[i * 3 + 1], result[i * 3 + 2]) = (b, g, r); break;
                case PixelFormat.Rgba32: (result[i * 4], result[i * 4 + 1], result[i * 4 + 2], result[i * 4 + 3]) = (r, g, b, 77); break;
                case PixelFormat.Bgra32: (result[i * 4], result[i * 4 + 1], result[i * 4 + 2], result[i * 4 + 3]) = (b, g, r, 200); break;
            }
        }
        return result;
    }

    [Theory]
    [InlineData(PixelFormat.Rgb24)]
    [InlineData(PixelFormat.Bgr24)]
    [InlineData(PixelFormat.Rgba32)]
    [InlineData(PixelFormat.Bgra32)]
    public void ImageNet_EqualsTorchvisionBitForBit_FromEveryPixelFormat(PixelFormat format)
    {
        float[] planes = InputNormalization.ImageNet.Normalize(Reorder(RgbPixels(), format), 7, 5, format);
        float[] expected = TestFiles.Npy("expected_imagenet_planes.npy");
        planes.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Normalize_PutsBluePlaneFirst_ForABgrModel()
    {
        // One pixel (R, G, B) = (10, 20, 30): a BGR model with divisor 1, means (1, 2, 3) and stds (1, 2, 4) gets
        // ((30 − 1) / 1, (20 − 2) / 2, (10 − 3) / 4).
        var bgr = new InputNormalization(ChannelOrder.Bgr, 1f, [1f, 2f, 3f], [1f, 2f, 4f]);
        bgr.Normalize([10, 20, 30], 1, 1, PixelFormat.Rgb24).Should().Equal(29f, 9f, 1.75f);
        bgr.Normalize([30, 20, 10, 255], 1, 1, PixelFormat.Bgra32).Should().Equal(29f, 9f, 1.75f);
        bgr.Description.Should().Be("bgr/1 mean=[1;2;3] std=[1;2;4]");
    }

    [Fact]
    public void Normalize_SkipsRowPadding()
    {
        byte[] packed = RgbPixels();
        var padded = new byte[5 * 32];
        for (int y = 0; y < 5; y++) packed.AsSpan(y * 21, 21).CopyTo(padded.AsSpan(y * 32));
        InputNormalization.ImageNet.Normalize(padded, 7, 5, PixelFormat.Rgb24, rowBytes: 32)
            .Should().Equal(InputNormalization.ImageNet.Normalize(packed, 7, 5, PixelFormat.Rgb24));
    }

    [Fact]
    public void Normalize_FeedsGreyToOneChannel_OrRepeatsItIntoThree()
    {
        var grey = new InputNormalization(ChannelOrder.Rgb, 255f, [0.5f], [0.25f]);
        grey.Channels.Should().Be(1);
        grey.Normalize([0, 255], 2, 1, PixelFormat.Gray8).Should().Equal(-2f, 2f);
        grey.Description.Should().Be("grey/255 mean=[0.5] std=[0.25]");
        InputNormalization.UnitRangeRgb.Normalize([51, 102], 2, 1, PixelFormat.Gray8).Should().Equal(0.2f, 0.4f, 0.2f, 0.4f, 0.2f, 0.4f);
        FluentActions.Invoking(() => grey.Normalize([1, 2, 3], 1, 1, PixelFormat.Rgb24))
            .Should().Throw<ArgumentException>().WithMessage("*one (grey) channel; convert the Rgb24 pixels to grey first*");
    }

    [Fact]
    public void WithMeanImage_SubtractsEachPixelsMean()
    {
        // Two pixels, BGR planes: B means (1, 2), G (3, 4), R (5, 6); std 2 for every channel.
        var normalization = InputNormalization.WithMeanImage(ChannelOrder.Bgr, 1f, [1, 2, 3, 4, 5, 6], 1, 2, [2f, 2f, 2f]);
        normalization.HasMeanImage.Should().BeTrue();
        (normalization.MeanImageHeight, normalization.MeanImageWidth).Should().Be((1, 2));
        normalization.Normalize([10, 20, 30, 40, 50, 60], 2, 1, PixelFormat.Rgb24)
            .Should().Equal((30 - 1) / 2f, (60 - 2) / 2f, (20 - 3) / 2f, (50 - 4) / 2f, (10 - 5) / 2f, (40 - 6) / 2f);
        normalization.Description.Should().MatchRegex(@"^bgr/1 meanImage=3x1x2:sha256=[0-9a-f]{64} std=\[2;2;2\]$");
        FluentActions.Invoking(() => normalization.Normalize(new byte[12], 2, 2, PixelFormat.Rgb24))
            .Should().Throw<ArgumentException>().WithMessage("*subtracts a 1 × 2 mean image; the pixels are 2 × 2*");
    }

    [Fact]
    public void Normalize_RejectsBuffersOfTheWrongSize()
    {
        var imageNet = InputNormalization.ImageNet;
        FluentActions.Invoking(() => imageNet.Normalize(new byte[20], 7, 1, PixelFormat.Rgb24))
            .Should().Throw<ArgumentException>().WithMessage("*need 21 bytes; got 20*");
        FluentActions.Invoking(() => imageNet.Normalize(new byte[21], 7, 1, PixelFormat.Rgb24, new float[20]))
            .Should().Throw<ArgumentException>().WithMessage("*3 × 1 × 7 = 21 floats; got 20*");
        FluentActions.Invoking(() => imageNet.Normalize(new byte[21], 7, 1, PixelFormat.Rgb24, rowBytes: 20))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => imageNet.Normalize(new byte[21], 0, 1, PixelFormat.Rgb24))
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Constructor_RejectsInconsistentParameters()
    {
        FluentActions.Invoking(() => new InputNormalization(ChannelOrder.Rgb, 255f, [0f, 0f], [1f, 1f])).Should().Throw<ArgumentException>().WithMessage("*1 or 3 finite values*");
        FluentActions.Invoking(() => new InputNormalization(ChannelOrder.Rgb, 255f, [0f, 0f, 0f], [1f, 0f, 1f])).Should().Throw<ArgumentException>().WithMessage("*3 positive finite values*");
        FluentActions.Invoking(() => new InputNormalization(ChannelOrder.Rgb, 0f, [0f], [1f])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new InputNormalization((ChannelOrder)7, 1f, [0f], [1f])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => InputNormalization.WithMeanImage(ChannelOrder.Rgb, 1f, new float[10], 2, 2)).Should().Throw<ArgumentException>().WithMessage("*1 or 3 planes of 2 × 2*");
        FluentActions.Invoking(() => InputNormalization.WithMeanImage(ChannelOrder.Rgb, 1f, [float.NaN], 1, 1)).Should().Throw<ArgumentException>();
    }
}
