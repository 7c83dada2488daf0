using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Tests.Processing;

public sealed class CroppingTests
{
    public static IEnumerable<object[]> Photos224 => Reference.PhotoNames(p => p.ImageNet is not null);

    [Theory]
    [MemberData(nameof(Photos224))]
    public void ResizeAndCenterCrop_EqualTorchvisionOnPilImages(string name)
    {
        // torchvision: Resize(256) (shorter side, PIL bilinear) then CenterCrop(224).
        ImageNetCase expected = Reference.Photo(name).ImageNet!;
        PixelImage resized = Photos.Get(name).ResizeShorterSide(256, ResizeFilter.Bilinear);
        (resized.Width, resized.Height).Should().Be((expected.ResizedWidth, expected.ResizedHeight));
        Reference.Sha256(resized.CenterCrop(224)).Should().Be(expected.CropSha256);
    }

    [Theory]
    [MemberData(nameof(Photos224))]
    public void Letterbox_EqualsPilImageOpsPad(string name)
    {
        LetterboxCase expected = Reference.Photo(name).Letterbox!;
        PixelImage padded = Photos.Get(name).Letterbox(expected.Width, expected.Height, Enum.Parse<ResizeFilter>(expected.Filter));
        Reference.Sha256(padded).Should().Be(expected.Sha256);
    }

    [Fact]
    public void Crop_FillsZeros_OutsideTheImage()
    {
        var image = new PixelImage(3, 2, PixelFormat.Gray8, [1, 2, 3, 4, 5, 6]);
        image.Crop(1, 0, 2, 2).Pixels.ToArray().Should().Equal(2, 3, 5, 6);
        image.Crop(-1, 1, 3, 2).Pixels.ToArray().Should().Equal(0, 4, 5, 0, 0, 0);
        image.Crop(10, 10, 2, 1).Pixels.ToArray().Should().Equal(0, 0);
    }

    [Theory]
    [InlineData(256, 224, 16)]
    [InlineData(225, 224, 0)]  // round(0.5) = 0, half to even
    [InlineData(227, 224, 2)]  // round(1.5) = 2
    [InlineData(200, 224, -12)]
    [InlineData(201, 224, -11)] // (224 − 201) / 2 = 11 zeros before the image
    public void CenterOffset_FollowsTorchvision(int side, int crop, int offset) =>
        Cropping.CenterOffset(side, crop).Should().Be(offset);

    [Fact]
    public void Letterbox_CentresAndFills()
    {
        // 4 × 2 into 4 × 4: fitted 4 × 2, placed at y = round((4 − 2) × 0.5) = 1, rows 0 and 3 filled.
        var image = new PixelImage(4, 2, PixelFormat.Gray8, [10, 10, 10, 10, 20, 20, 20, 20]);
        image.Letterbox(4, 4, ResizeFilter.Bilinear, fill: 7).Pixels.ToArray()
            .Should().Equal(7, 7, 7, 7, 10, 10, 10, 10, 20, 20, 20, 20, 7, 7, 7, 7);
    }
}
