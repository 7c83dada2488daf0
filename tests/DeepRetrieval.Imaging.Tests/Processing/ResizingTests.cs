using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Tests.Processing;

public sealed class ResizingTests
{
    public static IEnumerable<object[]> ResizedPhotos => Reference.PhotoNames(p => p.Resizes.Count > 0);

    [Theory]
    [MemberData(nameof(ResizedPhotos))]
    public void Resize_EqualsPilImageResize_ForEveryFilter(string name)
    {
        // PIL 9.4 Image.resize with BOX, BILINEAR, HAMMING, BICUBIC and LANCZOS: down to 224² and 9 × 8 (antialiased),
        // a mixed up/down size and an enlargement; RGB and "L". Whole-image checksums, so every pixel is equal.
        Photo photo = Reference.Photo(name);
        foreach (ResizeCase c in photo.Resizes)
        {
            PixelImage source = Photos.Get(name, c.Mode == "grey" ? PixelFormat.Gray8 : PixelFormat.Rgb24);
            PixelImage resized = source.Resize(c.Width, c.Height, Enum.Parse<ResizeFilter>(c.Filter));
            foreach (int[] s in c.Samples)
                ((int)resized.Pixels[(s[1] * c.Width + s[0]) * resized.Channels + s[2]]).Should().BeCloseTo(s[3], 1,
                    $"{name} {c.Filter} {c.Width}×{c.Height} {c.Mode} at ({s[0]}, {s[1]})");
            Reference.Sha256(resized).Should().Be(c.Sha256, $"{name} {c.Filter} {c.Width}×{c.Height} {c.Mode}");
        }
    }

    [Fact]
    public void Resize_EqualsPil_ForRgbaWithTransparency()
    {
        // PIL resizes RGBA through premultiplied alpha ("RGBa"); the MATE wallpaper has alpha 0–122.
        foreach (ResizeCase c in Reference.Photo("arc").RgbaResizes!)
        {
            PixelImage resized = Photos.Get("arc", PixelFormat.Rgba32).Resize(c.Width, c.Height, Enum.Parse<ResizeFilter>(c.Filter));
            Reference.Sha256(resized).Should().Be(c.Sha256, c.Filter);
        }
    }

    public static IEnumerable<object[]> LinearPhotos => Reference.PhotoNames(p => p.LinearExact is not null);

    [Theory]
    [MemberData(nameof(LinearPhotos))]
    public void LinearExact_EqualsOpenCvInterLinearExact_AndIsWithinOneOfInterLinearAndTorch(string name)
    {
        // cv2.resize INTER_LINEAR_EXACT: whole image equal. cv2 INTER_LINEAR (uint8) and torch's
        // interpolate(bilinear, align_corners=False) on floats, rounded: sampled pixels within one grey level.
        foreach (LinearCase c in Reference.Photo(name).LinearExact!)
        {
            PixelImage resized = Photos.Get(name).Resize(c.Width, c.Height, ResizeFilter.LinearExact);
            Reference.Sha256(resized).Should().Be(c.Sha256, $"{c.Width}×{c.Height}");
            foreach (int[] s in c.LinearSamples.Concat(c.TorchSamples))
                ((int)resized.Pixels[(s[1] * c.Width + s[0]) * 3 + s[2]]).Should().BeCloseTo(s[3], 1);
        }
    }

    [Fact]
    public void Resize_ByHand_AveragesPairsWithBox()
    {
        // BOX halving a 4 × 1 grey row averages pairs: (10 + 20) / 2 = 15, (30 + 41) / 2 = 35.5 → 36 (PIL rounds half up).
        var image = new PixelImage(4, 1, PixelFormat.Gray8, [10, 20, 30, 41]);
        image.Resize(2, 1, ResizeFilter.Box).Pixels.ToArray().Should().Equal(15, 36);
        // LinearExact enlarging 2 → 4: source x = (d + 0.5) / 2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → 0, 0.25, 0.75 → copies at the ends.
        new PixelImage(2, 1, PixelFormat.Gray8, [0, 100]).Resize(4, 1, ResizeFilter.LinearExact).Pixels.ToArray()
            .Should().Equal(0, 25, 75, 100);
    }

    [Fact]
    public void Resize_ReturnsACopy_WhenTheSizeIsUnchanged()
    {
        PixelImage image = Photos.Get("chelsea");
        PixelImage same = image.Resize(image.Width, image.Height, ResizeFilter.Lanczos);
        same.Should().NotBeSameAs(image);
        same.Pixels.ToArray().Should().Equal(image.Pixels.ToArray());
    }

    [Fact]
    public void ShorterSideAndFitSizes_FollowTorchvisionAndPil()
    {
        Resizing.ShorterSideSize(new ImageSize(640, 427), 256).Should().Be(new ImageSize(383, 256)); // int(256 · 640 / 427) = 383
        Resizing.ShorterSideSize(new ImageSize(300, 451), 224).Should().Be(new ImageSize(224, 336));
        Resizing.FitSize(new ImageSize(640, 427), 256, 256).Should().Be(new ImageSize(256, 171));   // round(427 / 640 · 256) = 170.8
        Resizing.FitSize(new ImageSize(100, 300), 90, 90).Should().Be(new ImageSize(30, 90));
    }

    [Fact]
    public void Resize_RejectsBadArguments()
    {
        PixelImage image = new(4, 4, PixelFormat.Gray8);
        ((Action)(() => image.Resize(0, 4, ResizeFilter.Box))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => image.Resize(4, 3, (ResizeFilter)42))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => image.ResizeShorterSide(0, ResizeFilter.Box))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
