using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Tests.Processing;

public sealed class TensorConversionTests
{
    public static IEnumerable<object[]> Photos224 => Reference.PhotoNames(p => p.ImageNet is not null);

    [Theory]
    [MemberData(nameof(Photos224))]
    public void ToChw_EqualsTorchvisionToTensorAndNormalize(string name)
    {
        ImageNetCase expected = Reference.Photo(name).ImageNet!;
        float[] chw = Photos.Get(name).ResizeShorterSide(256, ResizeFilter.Bilinear).CenterCrop(224).ToChw(ChannelNormalization.ImageNet);
        chw.Should().HaveCount(3 * 224 * 224);
        foreach (double[] v in expected.Values)
        {
            int c = (int)v[0], y = (int)v[1], x = (int)v[2];
            chw[c * 224 * 224 + y * 224 + x].Should().Be((float)v[3], $"plane {c} at ({x}, {y}) is computed as torchvision does, in float32");
        }
    }

    [Fact]
    public void ToChw_ReordersToBgr_AndScales()
    {
        var rgb = new PixelImage(2, 1, PixelFormat.Rgb24, [10, 20, 30, 40, 50, 60]);
        rgb.ToChw(ChannelNormalization.MlNetResNet18).Should().Equal(30f, 60f, 20f, 50f, 10f, 40f);
        rgb.ToChw(ChannelNormalization.CaffeBgr)[0].Should().Be(30f - 103.53f);
        new PixelImage(1, 1, PixelFormat.Gray8, [51]).ToChw(ChannelNormalization.UnitRgb).Should().Equal(0.2f, 0.2f, 0.2f);
        var grey = new ChannelNormalization(PixelFormat.Gray8, 1f / 255, [0.5f], [0.5f]);
        rgb.ToChw(grey).Should().Equal((ColorConversion.Luma(10, 20, 30) / 255f - 0.5f) / 0.5f, (ColorConversion.Luma(40, 50, 60) / 255f - 0.5f) / 0.5f);
    }

    [Fact]
    public void ToChw_WritesIntoABatchSlice_AndChecksItsLength()
    {
        var image = new PixelImage(2, 2, PixelFormat.Rgb24);
        var batch = new float[2 * 12];
        image.ToChw(batch.AsSpan(12), ChannelNormalization.UnitRgb);
        ((Action)(() => image.ToChw(new float[11], ChannelNormalization.UnitRgb))).Should().Throw<ArgumentException>().WithMessage("*needs 12 floats*");
    }

    [Fact]
    public void ChannelNormalization_RejectsInconsistentSettings()
    {
        ((Action)(() => new ChannelNormalization(PixelFormat.Rgb24, 1, [0f], [1f, 1f, 1f]))).Should().Throw<ArgumentException>();
        ((Action)(() => new ChannelNormalization(PixelFormat.Rgb24, 1, [0f, 0f, 0f], [1f, 0f, 1f]))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new ChannelNormalization(PixelFormat.Rgba32, 1, [0f, 0f, 0f, 0f], [1f, 1f, 1f, 1f]))).Should().Throw<ArgumentException>();
    }
}
