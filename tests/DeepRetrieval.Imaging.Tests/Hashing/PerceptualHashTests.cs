using DeepRetrieval.Imaging.Hashing;

namespace DeepRetrieval.Imaging.Tests.Hashing;

public sealed class PerceptualHashTests
{
    [Fact]
    public void UInt64_RoundTrips_AndReadsBigEndian()
    {
        PerceptualHash hash = PerceptualHash.FromUInt64(0x8f373714acfcf4d0);
        hash.ToString().Should().Be("8f373714acfcf4d0");
        hash.Bytes.ToArray().Should().Equal(0x8f, 0x37, 0x37, 0x14, 0xac, 0xfc, 0xf4, 0xd0);
        hash.ToUInt64().Should().Be(0x8f373714acfcf4d0);
        PerceptualHash.Parse("8f373714acfcf4d0", 64).Should().Be(hash);
    }

    [Fact]
    public void DistanceTo_CountsDifferingBits()
    {
        PerceptualHash a = PerceptualHash.FromUInt64(0b1011), b = PerceptualHash.FromUInt64(0b0110);
        a.DistanceTo(b).Should().Be(3);
        a.DistanceTo(a).Should().Be(0);
        PerceptualHash.FromUInt64(ulong.MaxValue).DistanceTo(PerceptualHash.FromUInt64(0)).Should().Be(64);
    }

    [Fact]
    public void OddBitCounts_ParseImagehashHex()
    {
        // imagehash prints a 36-bit hash (hash_size 6) as 9 hex digits; the packed form has 5 bytes, 4 padding bits on top.
        PerceptualHash hash = PerceptualHash.Parse("a8421f0e3", 36);
        hash.Bytes.ToArray().Should().Equal(0x0a, 0x84, 0x21, 0xf0, 0xe3);
        hash.ToString().Should().Be("0a8421f0e3");
    }

    [Fact]
    public void BadInput_IsRejected()
    {
        ((Action)(() => PerceptualHash.Parse("zz", 8))).Should().Throw<FormatException>();
        ((Action)(() => PerceptualHash.Parse("abc", 64))).Should().Throw<FormatException>();
        ((Action)(() => new PerceptualHash(new byte[3], 32))).Should().Throw<ArgumentException>();
        ((Action)(() => PerceptualHash.FromUInt64(1, 8).DistanceTo(PerceptualHash.FromUInt64(1, 16)))).Should().Throw<ArgumentException>();
        ((Action)(() => new PerceptualHash(new byte[9], 72).ToUInt64())).Should().Throw<InvalidOperationException>();
    }
}
