using System.Text.Json;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Torch.Augmentation;
using DeepRetrieval.Torch.Tests.Data;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Augmentation;

public sealed class ImageAugmentationTests
{
    public sealed record CropCase(int Width, int Height, double[] Scale, double[] Ratio, double[] Doubles, int[] Ints, int Left, int Top, int BoxWidth, int BoxHeight);

    public static TheoryData<int> CropCases() => [.. Enumerable.Range(0, ReadCropCases().Length)];

    private static CropCase[] ReadCropCases() =>
        JsonSerializer.Deserialize<CropCase[]>(File.ReadAllText(ReferenceFixtures.Path("crop_params.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    [Theory]
    [MemberData(nameof(CropCases))]
    public void RandomResizedCropBox_EqualsTorchvisionsGetParams_ForTheSameDraws(int index)
    {
        // Data/Reference/make_image_fixtures.py ran torchvision's RandomResizedCrop.get_params with these scripted draws.
        CropCase c = ReadCropCases()[index];
        var crop = new ImageRandomResizedCrop(8, 8, c.Scale[0], c.Scale[1], c.Ratio[0], c.Ratio[1]);
        var random = new ScriptedRandom(c.Doubles, c.Ints);

        var box = crop.SampleBox(c.Width, c.Height, random);

        box.Should().Be((c.Left, c.Top, c.BoxWidth, c.BoxHeight));
        random.Unused.Should().Be(0, "the same number of draws as torchvision");
    }

    [Fact]
    public void RandomResizedCrop_CutsTheBox_AndResizesItLikeTorchvisionsResizedCropOnAPhoto()
    {
        using var scope = NewDisposeScope();
        PixelImage photo = ImageDecoder.Decode(ReferenceFixtures.Photo("chelsea.png"));
        // Area fraction and ratio pinned so the box is 200 × 150; the place comes from the two integer draws (top, then left).
        double fraction = 200.0 * 150 / (photo.Width * photo.Height);
        var crop = new ImageRandomResizedCrop(32, 48, fraction, fraction, 4.0 / 3, 4.0 / 3);

        PixelImage result = crop.Apply(photo, new ScriptedRandom([0.5, 0.5], [21, 37]));

        Tensor actual = tensor(result.ToChw(ChannelNormalization.UnitRgb), new long[] { 3, 32, 48 });
        actual.IsEqualTo(ReferenceFixtures.Tensor("augmentation_chelsea_box37_21_200x150_to48x32.npy", 3, 32, 48)).Should().BeTrue();
    }

    [Fact]
    public void RandomHorizontalFlip_FlipsWithProbabilityP_AndAlwaysDrawsOneNumber()
    {
        var image = new PixelImage(3, 1, PixelFormat.Gray8, [1, 2, 3]);

        new ImageRandomHorizontalFlip(1).Apply(image, new ScriptedRandom([0.999], [])).Pixels.ToArray().Should().Equal(3, 2, 1);
        new ImageRandomHorizontalFlip(0).Apply(image, new ScriptedRandom([0.0], [])).Should().BeSameAs(image);
        var random = new ScriptedRandom([0.4, 0.6], []);
        var flip = new ImageRandomHorizontalFlip(0.5);
        flip.Apply(image, random).Pixels.ToArray().Should().Equal(3, 2, 1);
        flip.Apply(image, random).Should().BeSameAs(image);
        image.Pixels.ToArray().Should().Equal([1, 2, 3], "the input is never modified");
        FluentActions.Invoking(() => new ImageRandomHorizontalFlip(1.5)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void RandomResizedCrop_RejectsBadRanges()
    {
        FluentActions.Invoking(() => new ImageRandomResizedCrop(0, 8)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ImageRandomResizedCrop(8, 8, 0.5, 0.4)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ImageRandomResizedCrop(8, 8, ratioMin: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ImageRandomResizedCrop(8, 8, filter: (ResizeFilter)99)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void SampleRandom_IsAPureFunctionOfSeedEpochAndPosition_AndUniform()
    {
        static double[] Draws(long seed, long epoch, long position)
        {
            var random = new SampleRandom(seed, epoch, position);
            return [.. Enumerable.Range(0, 8).Select(_ => random.NextDouble())];
        }

        Draws(1, 2, 3).Should().Equal(Draws(1, 2, 3));
        Draws(1, 2, 3).Should().NotIntersectWith(Draws(1, 2, 4));
        Draws(1, 2, 3).Should().NotIntersectWith(Draws(1, 3, 3));
        Draws(1, 2, 3).Should().NotIntersectWith(Draws(2, 2, 3));

        var generator = new SampleRandom(7, 0, 0);
        var counts = new int[10];
        for (int i = 0; i < 20_000; i++) counts[generator.Next(10)]++;
        counts.Should().OnlyContain(n => n > 1_800 && n < 2_200, "each of 10 values about 2,000 times in 20,000");
        Enumerable.Range(0, 1_000).Select(_ => generator.NextDouble()).Should().OnlyContain(d => d >= 0 && d < 1);
        Enumerable.Range(0, 1_000).Select(_ => generator.Next(-3, 4)).Distinct().Order().Should().Equal(-3, -2, -1, 0, 1, 2, 3);
        Enumerable.Range(0, 1_000).Select(_ => generator.NextInt64(5)).Should().OnlyContain(v => v >= 0 && v < 5);
        generator.Next(1).Should().Be(0);
        var bytes = new byte[13];
        generator.NextBytes(bytes);
        bytes.Should().Contain(b => b != 0);
    }

    /// <summary>Returns the given doubles and integers in order, checking each integer is below its bound.</summary>
    private sealed class ScriptedRandom(IEnumerable<double> doubles, IEnumerable<int> ints) : Random
    {
        private readonly Queue<double> _doubles = new(doubles);
        private readonly Queue<int> _ints = new(ints);

        public int Unused => _doubles.Count + _ints.Count;

        public override double NextDouble() => _doubles.Dequeue();

        public override int Next(int maxValue)
        {
            int value = _ints.Dequeue();
            value.Should().BeInRange(0, maxValue - 1);
            return value;
        }
    }
}
