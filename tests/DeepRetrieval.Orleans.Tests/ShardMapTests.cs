using DeepRetrieval.Orleans.Routing;

namespace DeepRetrieval.Orleans.Tests;

public sealed class ShardMapTests
{
    [Fact]
    public void Uniform_CutsTheHashSpaceIntoEqualRanges()
    {
        ShardMap map = ShardMap.Uniform(4);
        map.Starts.Should().Equal(0UL, 1UL << 62, 2UL << 62, 3UL << 62);
        map.ShardOf(0).Should().Be(0);
        map.ShardOf((1UL << 62) - 1).Should().Be(0);
        map.ShardOf(1UL << 62).Should().Be(1);
        map.ShardOf(ulong.MaxValue).Should().Be(3);
        ShardMap.Uniform(3).Starts.Should().Equal(0UL, 6148914691236517205UL, 12297829382473034410UL); // ⌊i · 2⁶⁴ / 3⌋
    }

    [Fact]
    public void Uniform_SpreadsKeysEvenly()
    {
        ShardMap map = ShardMap.Uniform(3);
        int[] counts = new int[3];
        for (int key = 0; key < 30_000; key++) counts[map.ShardOfKey(key)]++;
        counts.Should().OnlyContain(c => c > 9_500 && c < 10_500);
    }

    [Fact]
    public void ASplitMap_RoutesTheHalvesOfTheSplitRangeToTwoShards()
    {
        // Shard 1 of a 2-shard map split in two: [2⁶³, 3·2⁶²) stays on 1, [3·2⁶², 2⁶⁴) goes to new shard 2.
        var map = new ShardMap([0UL, 1UL << 63, 3UL << 62], [0, 1, 2]);
        map.ShardOf((3UL << 62) - 1).Should().Be(1);
        map.ShardOf(3UL << 62).Should().Be(2);
        map.ShardOf(5).Should().Be(0);
    }

    [Fact]
    public void Constructor_RejectsMalformedMaps()
    {
        FluentActions.Invoking(() => new ShardMap([1UL], [0])).Should().Throw<ArgumentException>().WithMessage("*start at hash 0*");
        FluentActions.Invoking(() => new ShardMap([0UL, 5, 5], [0, 1, 2])).Should().Throw<ArgumentException>().WithMessage("*increase*");
        FluentActions.Invoking(() => new ShardMap([0UL, 5], [1, 1])).Should().Throw<ArgumentException>().WithMessage("*one range*");
        FluentActions.Invoking(() => new ShardMap([0UL], [0, 1])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void KeyHash_IsPinned_BecauseStoredRecordsArePlacedByIt()
    {
        // XxHash64 (seed 0) of the canonical bytes; changing any of these moves stored records to other shards.
        KeyHash.Of(1).Should().Be(System.IO.Hashing.XxHash64.HashToUInt64([1, 0, 0, 0]));
        KeyHash.Of(1L).Should().Be(System.IO.Hashing.XxHash64.HashToUInt64([1, 0, 0, 0, 0, 0, 0, 0]));
        KeyHash.Of(1UL).Should().Be(KeyHash.Of(1L));
        KeyHash.Of("abc").Should().Be(System.IO.Hashing.XxHash64.HashToUInt64("abc"u8));
        KeyHash.Of("").Should().Be(0xEF46DB3751D8E999UL); // XxHash64 of no bytes, from the reference implementation
        var guid = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        KeyHash.Of(guid).Should().Be(System.IO.Hashing.XxHash64.HashToUInt64(guid.ToByteArray()));
        FluentActions.Invoking(() => KeyHash.Of(1.5)).Should().Throw<ArgumentException>().WithMessage("*Double*");
    }
}
