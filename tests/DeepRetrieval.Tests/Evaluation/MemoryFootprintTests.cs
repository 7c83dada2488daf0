using System.Reflection;
using DeepRetrieval.Evaluation;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests.Evaluation;

public class MemoryFootprintTests
{
    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1024L, "1.00 KiB")]
    [InlineData(1536L, "1.50 KiB")]          // 1536 / 1024 = 1.5
    [InlineData(1_600_000L, "1.53 MiB")]     // 1,600,000 / 1,048,576 = 1.5259
    [InlineData(5L << 30, "5.00 GiB")]
    public void FormatBytes_UsesBinaryUnits(long bytes, string expected)
    {
        MemoryFootprint.FormatBytes(bytes).Should().Be(expected);
    }

    [Fact]
    public void BytesPerVectorAndCompressionRatio_MatchHandWorkedExample()
    {
        // 1,600,000 B over 100,000 vectors = 16 B/vector; a 128-d float32 vector takes 512 B → 512 / 16 = 32×.
        var footprint = new MemoryFootprint(1_600_000, 100_000);
        footprint.BytesPerVector.Should().Be(16);
        footprint.CompressionRatio(128).Should().Be(32);
        footprint.ToString().Should().Be("1.53 MiB (16.0 B/vector, 100,000 vectors)");
    }

    [Fact]
    public void BytesPerVector_IsNaN_WhenNoVectorIsStored()
    {
        var footprint = new MemoryFootprint(4096, 0);
        footprint.BytesPerVector.Should().Be(double.NaN);
        footprint.CompressionRatio(8).Should().Be(double.NaN);
        footprint.ToString().Should().Be("4.00 KiB (no vectors)");
    }

    [Fact]
    public void Of_ReadsTheIndexMemoryAndCount()
    {
        IVectorIndex index = FakeIndex.Create(memoryUsageBytes: 2048, count: 64);
        MemoryFootprint.Of(index).Should().Be(new MemoryFootprint(2048, 64));
    }

    [Fact]
    public void Throws_OnBadArguments()
    {
        Action negativeBytes = () => _ = new MemoryFootprint(-1, 0);
        Action negativeCount = () => _ = new MemoryFootprint(0, -1);
        Action negativeFormat = () => MemoryFootprint.FormatBytes(-5);
        Action zeroDimension = () => new MemoryFootprint(16, 1).CompressionRatio(0);
        Action nullIndex = () => MemoryFootprint.Of(null!);
        negativeBytes.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("bytes");
        negativeCount.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("vectorCount");
        negativeFormat.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("bytes");
        zeroDimension.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("dimension");
        nullIndex.Should().Throw<ArgumentNullException>().WithParameterName("index");
    }

    /// <summary>
    /// Answers only the two properties <see cref="MemoryFootprint.Of"/> reads; a proxy rather than a
    /// hand-written class so the test does not break when the index interface grows.
    /// </summary>
    public class FakeIndex : DispatchProxy
    {
        private long _memoryUsageBytes;
        private long _count;

        public static IVectorIndex Create(long memoryUsageBytes, long count)
        {
            IVectorIndex proxy = Create<IVectorIndex, FakeIndex>();
            var fake = (FakeIndex)(object)proxy;
            fake._memoryUsageBytes = memoryUsageBytes;
            fake._count = count;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_MemoryUsageBytes" => _memoryUsageBytes,
            "get_Count" => _count,
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
