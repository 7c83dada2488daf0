using DeepRetrieval.Imaging.Hashing;
using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Tests.Hashing;

public sealed class PerceptualHasherTests
{
    public static IEnumerable<object[]> HashedPhotos => Reference.PhotoNames(p => p.Hashes is not null);

    private static readonly (string Key, IPerceptualHasher Hasher)[] Cases =
    [
        ("ahash", new AverageHash()), ("ahash16", new AverageHash(16)),
        ("dhash", new DifferenceHash()), ("dhash16", new DifferenceHash(16)), ("dhash_vertical", new DifferenceHash(vertical: true)),
        ("phash", new DctHash()), ("phash16", new DctHash(16)), ("phash6", new DctHash(6)),
        ("whash", new WaveletHash()), ("whash16", new WaveletHash(16)), ("whash_scale64", new WaveletHash(8, imageScale: 64)),
        ("whash_keep_ll", new WaveletHash(removeMaxHaarLowLevel: false)),
        ("opencv_ahash", new OpenCvAverageHash()), ("opencv_phash", new OpenCvDctHash()),
    ];

    [Theory]
    [MemberData(nameof(HashedPhotos))]
    public void Hashes_EqualImagehashAndOpenCv_BitForBit(string name)
    {
        // imagehash 4.3.2 (average_hash, dhash, dhash_vertical, phash, whash) and cv2.img_hash 4.6 on the same photo,
        // PNGs and JPEGs alike: Hamming distance 0 for every hash.
        Photo photo = Reference.Photo(name);
        PixelImage image = Photos.Get(name);
        foreach ((string key, IPerceptualHasher hasher) in Cases)
        {
            PerceptualHash ours = hasher.Compute(image);
            PerceptualHash expected = PerceptualHash.Parse(photo.Hashes![key], hasher.BitCount);
            ours.DistanceTo(expected).Should().Be(0, $"{key} of {name}: ours {ours}, reference {photo.Hashes[key]}");
        }
    }

    [Fact]
    public void Hashes_StayClose_ForAResizedRecompressedCopy_AndFarForAnotherPhoto()
    {
        PixelImage original = Photos.Get("astronaut");
        PixelImage copy = original.Resize(301, 301, ResizeFilter.Bicubic).Crop(3, 3, 295, 295);
        PixelImage other = Photos.Get("coffee");
        foreach (string name in new[] { "ahash", "dhash", "phash", "whash" })
        {
            IPerceptualHasher hasher = PerceptualHashers.Create(name);
            hasher.Compute(original).DistanceTo(hasher.Compute(copy)).Should().BeLessThanOrEqualTo(8, name);
            hasher.Compute(original).DistanceTo(hasher.Compute(other)).Should().BeGreaterThan(16, name);
        }
    }

    [Fact]
    public void Hashers_IgnoreTheInputChannelOrder()
    {
        PixelImage rgb = Photos.Get("coffee");
        foreach (string name in PerceptualHashers.Names)
        {
            IPerceptualHasher hasher = PerceptualHashers.Create(name);
            hasher.Compute(rgb.ConvertTo(PixelFormat.Bgr24)).Should().Be(hasher.Compute(rgb), name);
            hasher.Compute(rgb.ConvertTo(PixelFormat.Rgba32)).Should().Be(hasher.Compute(rgb), name);
        }
    }

    [Fact]
    public void Registry_CreatesEveryKind_AndRejectsUnknownNames()
    {
        PerceptualHashers.Names.Should().Contain(["ahash", "dhash", "dhash-vertical", "phash", "whash", "opencv-ahash", "opencv-phash"]);
        foreach (string name in PerceptualHashers.Names)
            PerceptualHashers.Create(name).BitCount.Should().Be(64);
        ((Action)(() => PerceptualHashers.Create("sha1"))).Should().Throw<ArgumentException>().WithMessage("*sha1*known: *phash*");
        PerceptualHashers.Register("phash-256", () => new DctHash(16));
        PerceptualHashers.Create("PHASH-256").BitCount.Should().Be(256);
    }

    [Fact]
    public void Hashers_RejectBadSizes()
    {
        ((Action)(() => new AverageHash(1))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new WaveletHash(12))).Should().Throw<ArgumentException>().WithMessage("*power of two*");
        ((Action)(() => new WaveletHash(16, imageScale: 8))).Should().Throw<ArgumentException>();
        ((Action)(() => new DctHash(8, 0))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
