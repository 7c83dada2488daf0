using DeepRetrieval.Imaging.Hashing;
using DeepRetrieval.Imaging.Processing;
using SkiaSharp;

namespace DeepRetrieval.Imaging.Tests.Hashing;

public sealed class PerceptualHashIndexTests
{
    private static readonly string[] PhotoNames = ["astronaut", "coffee", "chelsea", "camera", "rocket", "meadow", "aqua", "arc"];
    private static readonly string[] Kinds = ["ahash", "dhash", "phash", "whash"];

    private static PerceptualHash H(ulong bits) => PerceptualHash.FromUInt64(bits);

    [Fact]
    public void PackAndUnpack_RoundTrip_AndCodeDistancesEqualHashDistances()
    {
        // A 12-bit hash packs into 2 bytes (imagehash right-aligns it: the 4 padding bits are zero in every hash).
        PerceptualHash[] hashes = [PerceptualHash.FromUInt64(0xABC, 12), PerceptualHash.FromUInt64(0x0F0, 12), PerceptualHash.FromUInt64(0xFFF, 12)];
        byte[] codes = PerceptualHashCodes.Pack(hashes);
        codes.Should().Equal(0x0A, 0xBC, 0x00, 0xF0, 0x0F, 0xFF);
        PerceptualHashCodes.Unpack(codes, 12).Should().Equal(hashes);
        PerceptualHashCodes.IndexBits(12).Should().Be(16);
        PerceptualHashCodes.IndexBits(64).Should().Be(64);
        // 0xABC vs 0x0F0: 1010 1011 1100 vs 0000 1111 0000 → 2 + 1 + 2 = 5 differing bits, by hand.
        DeepRetrieval.Distances.Distance.Hamming(codes.AsSpan(0, 2), codes.AsSpan(2, 2)).Should().Be(5);
        hashes[0].DistanceTo(hashes[1]).Should().Be(5);

        ((Action)(() => PerceptualHashCodes.Pack([H(0), PerceptualHash.FromUInt64(0, 16)]))).Should().Throw<ArgumentException>();
        ((Action)(() => PerceptualHashCodes.Unpack(new byte[3], 12))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Search_ReturnsNearestAndWithinRadius_WithDistancesWorkedOutByHand()
    {
        var index = new PerceptualHashIndex(new DctHash());
        index.Add([10, 11, 12, 13], new PerceptualHash[][] { [H(0)], [H(0b1)], [H(0b111)], [H(ulong.MaxValue)] });
        index.Count.Should().Be(4);

        index.Search(H(0b11), 3).Should().Equal(new HashNeighbor(11, 1), new HashNeighbor(12, 1), new HashNeighbor(10, 2));
        index.SearchWithin(H(0b11), 1).Should().Equal(new HashNeighbor(11, 1), new HashNeighbor(12, 1));
        index.SearchWithin(H(0b11), 2).Should().Equal(new HashNeighbor(11, 1), new HashNeighbor(12, 1), new HashNeighbor(10, 2));
        index.SearchWithin(H(0), 0).Should().Equal(new HashNeighbor(10, 0));
        index.Search(H(0), 10).Should().HaveCount(4, "fewer come back when fewer are stored");
        index.GetHashes(12).Should().Equal(H(0b111));

        index.Remove([11]).Should().Be(1);
        index.Contains(11).Should().BeFalse();
        index.GetIds().Should().Equal(10, 12, 13);
        index.SearchWithin(H(0b11), 1).Should().Equal(new HashNeighbor(12, 1));
    }

    [Fact]
    public void FindMatches_CountsVotesAcrossKinds_AsWorkedOutByHand()
    {
        var index = new PerceptualHashIndex(new AverageHash(), new DifferenceHash(), new DctHash());
        // Distances to the all-zero query: id 1 → (1, 2, 40), id 2 → (3, 3, 3), id 3 → (50, 50, 1).
        index.Add(1, [H(0b1), H(0b11), H((1UL << 40) - 1)]);
        index.Add(2, [H(0b111), H(0b111), H(0b111)]);
        index.Add(3, [H((1UL << 50) - 1), H((1UL << 50) - 1), H(0b1)]);
        PerceptualHash[] query = [H(0), H(0), H(0)];

        IReadOnlyList<HashMatch> twoOfThree = index.FindMatches(query, new HashVoting([3, 3, 3], minVotes: 2));
        twoOfThree.Select(m => (m.Id, m.Votes)).Should().Equal((2L, 3), (1L, 2));
        twoOfThree[0].Distances.Should().Equal(3, 3, 3);
        twoOfThree[1].Distances.Should().Equal(1, 2, 40);
        index.FindMatches(query, new HashVoting([3, 3, 3], minVotes: 1)).Select(m => m.Id).Should().Equal(2L, 1L, 3L);
        index.FindMatches(query, new HashVoting([2, 2, 2], minVotes: 3)).Should().BeEmpty();

        ((Action)(() => index.FindMatches(query, HashVoting.Single(3)))).Should().Throw<ArgumentException>().WithMessage("*3 kind(s)*");
        ((Action)(() => index.FindMatches([H(0)], new HashVoting([3, 3, 3], 2)))).Should().Throw<ArgumentException>();
        ((Action)(() => index.Add(1, [H(0), H(0), H(0)]))).Should().Throw<ArgumentException>("id 1 is stored");
        ((Action)(() => index.Add(4, [H(0), H(0), PerceptualHash.FromUInt64(0, 16)]))).Should().Throw<ArgumentException>();
        index.Count.Should().Be(3, "a rejected add changes nothing");
        ((Action)(() => new HashVoting([1, 2], 3))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void FindMatches_MatchesTransformedCopiesOfRealPhotosToTheirOriginal_AndNoOtherPhoto()
    {
        PerceptualHashIndex index = PerceptualHashIndex.Create(Kinds);
        for (int i = 0; i < PhotoNames.Length; i++)
            index.Add(i, Photos.Get(PhotoNames[i]));
        var voting = new HashVoting([10, 10, 10, 10], minVotes: 3);

        for (int i = 0; i < PhotoNames.Length; i++)
        {
            PixelImage original = Photos.Get(PhotoNames[i]);
            foreach ((string what, PixelImage copy) in Copies(original, seed: i))
            {
                // A 5% crop moves the hashes by 4 to 27 bits (measured on these photos), too far for 3 votes within 10: it is
                // found as the nearest pHash instead, which every other copy also is.
                if (what != "5%-cropped")
                {
                    IReadOnlyList<HashMatch> matches = index.FindMatches(copy, voting);
                    matches.Select(m => m.Id).Should().Equal([(long)i], $"a {what} copy of {PhotoNames[i]} matches only its original");
                }
                int phash = Array.IndexOf(Kinds, "phash");
                index.Search(index.Hash(copy)[phash], 1, phash).Single().Id.Should().Be(i, $"the pHash nearest to a {what} copy of {PhotoNames[i]}");
            }
        }
    }

    [Fact]
    public void GroupDuplicates_EqualsComparingEveryPair_OnRealPhotosAndCopies()
    {
        PerceptualHashIndex index = PerceptualHashIndex.Create(Kinds);
        var all = new List<PerceptualHash[]>();
        for (int i = 0; i < PhotoNames.Length; i++)
        {
            PixelImage original = Photos.Get(PhotoNames[i]);
            all.Add(index.Hash(original));
            all.AddRange(Copies(original, seed: i).Select(c => index.Hash(c.Image)));
        }
        // Ids far from positions, to show the groups are in ids.
        long[] ids = [.. Enumerable.Range(0, all.Count).Select(i => 1000L + 7 * i)];
        index.Add(ids, all);
        foreach ((int[] thresholds, int votes) in new[] { (new[] { 10, 10, 10, 10 }, 3), (new[] { 6, 6, 6, 6 }, 1), (new[] { 2, 2, 2, 2 }, 4) })
        {
            var progress = new List<long>();
            IReadOnlyList<IReadOnlyList<long>> groups = index.GroupDuplicates(new HashVoting(thresholds, votes), new Progress<long>(progress.Add));
            IReadOnlyList<DuplicateGroup> expected = new NearDuplicateGrouper(thresholds, votes).Group(all);
            groups.Should().BeEquivalentTo(expected.Select(g => g.Members.Select(m => ids[m]).ToArray()), o => o.WithStrictOrdering());
        }
        index.GroupDuplicates(new HashVoting([10, 10, 10, 10], 3)).Should().HaveCount(PhotoNames.Length, "each photo with its copies, no two photos together");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        ((Action)(() => index.GroupDuplicates(HashVotingAll(1), cancellationToken: cancelled.Token))).Should().Throw<OperationCanceledException>();
    }

    private static HashVoting HashVotingAll(int distance) => new([distance, distance, distance, distance], 1);

    // Copies as a copy-detection benchmark makes them: scaled, cropped at the margins, brightened, re-encoded as JPEG, noisy.
    private static IEnumerable<(string What, PixelImage Image)> Copies(PixelImage original, int seed)
    {
        yield return ("half-size", original.Resize(Math.Max(1, original.Width / 2), Math.Max(1, original.Height / 2), ResizeFilter.Bilinear));
        int dx = original.Width / 20, dy = original.Height / 20;
        yield return ("5%-cropped", original.Crop(dx, dy, original.Width - 2 * dx, original.Height - 2 * dy));
        PixelImage brighter = original.Clone();
        Span<byte> pixels = brighter.Pixels;
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)Math.Min(255, pixels[i] + 20);
        yield return ("brightened", brighter);
        yield return ("JPEG q=60", Jpeg(original, 60));
        PixelImage noisy = original.Clone();
        var random = new Random(seed);
        Span<byte> noisyPixels = noisy.Pixels;
        for (int i = 0; i < noisyPixels.Length; i++)
            noisyPixels[i] = (byte)Math.Clamp(noisyPixels[i] + random.Next(-12, 13), 0, 255);
        yield return ("noisy", noisy);
    }

    private static PixelImage Jpeg(PixelImage image, int quality)
    {
        PixelImage rgba = image.ConvertTo(PixelFormat.Rgba32);
        var info = new SKImageInfo(rgba.Width, rgba.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        rgba.Pixels.CopyTo(bitmap.GetPixelSpan());
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return ImageDecoder.Decode(data.AsSpan(), new ImageDecodeOptions { Format = PixelFormat.Rgb24 });
    }
}
