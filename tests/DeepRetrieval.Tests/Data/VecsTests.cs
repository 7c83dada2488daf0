using System.Buffers.Binary;
using DeepRetrieval.Data;

namespace DeepRetrieval.Tests.Data;

public sealed class VecsTests
{
    private static byte[] Row(int dimension, params float[] values)
    {
        var bytes = new byte[4 + 4 * values.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, dimension);
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 + 4 * i), values[i]);
        return bytes;
    }

    private static float[] RandomFloats(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    [Fact]
    public void HandBuiltFvecs_IsParsed()
    {
        byte[] bytes = [.. Row(3, 1f, 2f, 3f), .. Row(3, -1f, 0.5f, 1e10f)];

        VectorSet<float> set = VecsReader.ReadFvecs(new MemoryStream(bytes));

        set.Count.Should().Be(2);
        set.Dimension.Should().Be(3);
        set.Data.Should().Equal(1f, 2f, 3f, -1f, 0.5f, 1e10f);
        set.GetRow(1).ToArray().Should().Equal(-1f, 0.5f, 1e10f);
    }

    [Fact]
    public void HandBuiltIvecsAndBvecs_AreParsed()
    {
        byte[] ivecs = [2, 0, 0, 0, 7, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0];
        byte[] bvecs = [3, 0, 0, 0, 1, 2, 255, 3, 0, 0, 0, 4, 5, 6];

        VectorSet<int> ids = VecsReader.ReadIvecs(new MemoryStream(ivecs));
        VectorSet<byte> bytes = VecsReader.ReadBvecs(new MemoryStream(bvecs));

        ids.Dimension.Should().Be(2);
        ids.Data.Should().Equal(7, -1, 256, 1);
        bytes.Count.Should().Be(2);
        bytes.Data.Should().Equal(1, 2, 255, 4, 5, 6);
    }

    [Fact]
    public void Fvecs_RoundTripsThroughAFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("base.fvecs");
        float[] data = RandomFloats(50 * 16, seed: 1);

        VecsWriter.WriteFvecs(path, data, 16);

        new FileInfo(path).Length.Should().Be(50 * (4 + 16 * 4));
        VectorSet<float> read = VecsReader.ReadFvecs(path);
        read.Count.Should().Be(50);
        read.Dimension.Should().Be(16);
        read.Data.Should().Equal(data);
    }

    [Fact]
    public void IvecsAndBvecs_RoundTripThroughFiles()
    {
        using var dir = new TempDirectory();
        var ids = new VectorSet<int>(3, 4, [0, 1, 2, 3, -1, int.MaxValue, int.MinValue, 7, 8, 9, 10, 11]);
        var codes = new VectorSet<byte>(2, 3, [0, 128, 255, 1, 2, 3]);

        VecsWriter.WriteIvecs(dir.File("gt.ivecs"), ids);
        VecsWriter.WriteBvecs(dir.File("codes.bvecs"), codes);

        VecsReader.ReadIvecs(dir.File("gt.ivecs")).Data.Should().Equal(ids.Data);
        VectorSet<byte> readCodes = VecsReader.ReadBvecs(dir.File("codes.bvecs"));
        readCodes.Dimension.Should().Be(3);
        readCodes.Data.Should().Equal(codes.Data);
    }

    [Fact]
    public void IvecsFromLongs_NarrowsAndRejectsOverflow()
    {
        using var buffer = new MemoryStream();
        long[] ids = [5, -1, 1_000_000];

        VecsWriter.WriteIvecs(buffer, ids, 3);

        buffer.Position = 0;
        VecsReader.ReadIvecs(buffer).Data.Should().Equal(5, -1, 1_000_000);
        FluentActions.Invoking(() => VecsWriter.WriteIvecs(new MemoryStream(), [1L, 1L << 40], 2))
            .Should().Throw<ArgumentException>().WithMessage("*data[1]*");
    }

    [Fact]
    public void ForwardOnlyStream_GivesTheSameRowsAsASeekableOne()
    {
        // 3,000 rows of dimension 128 make the unknown-length reader grow its buffer several times.
        float[] data = RandomFloats(3000 * 128, seed: 2);
        using var buffer = new MemoryStream();
        VecsWriter.WriteFvecs(buffer, data, 128);

        VectorSet<float> read = VecsReader.ReadFvecs(new ForwardOnlyStream(buffer.ToArray(), maxChunk: 100_000));

        read.Count.Should().Be(3000);
        read.Data.AsSpan().SequenceEqual(data).Should().BeTrue();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MaxRows_ReadsOnlyTheFirstRows(bool forwardOnly)
    {
        float[] data = RandomFloats(10 * 4, seed: 3);
        using var buffer = new MemoryStream();
        VecsWriter.WriteFvecs(buffer, data, 4);
        byte[] bytes = buffer.ToArray();
        Stream Open() => forwardOnly ? new ForwardOnlyStream(bytes) : new MemoryStream(bytes);

        VectorSet<float> first = VecsReader.ReadFvecs(Open(), maxRows: 3);

        first.Count.Should().Be(3);
        first.Data.Should().Equal(data.Take(12));
        VecsReader.ReadFvecs(Open(), maxRows: 0).Count.Should().Be(0);
        VecsReader.ReadFvecs(Open(), maxRows: 99).Count.Should().Be(10);
    }

    [Fact]
    public void EmptyInput_GivesAnEmptySet()
    {
        using var dir = new TempDirectory();
        string path = dir.File("empty.fvecs");
        VecsWriter.WriteFvecs(path, ReadOnlySpan<float>.Empty, 0);

        VectorSet<float> set = VecsReader.ReadFvecs(path);

        set.Count.Should().Be(0);
        set.Dimension.Should().Be(0);
        VecsReader.ReadIvecs(new ForwardOnlyStream([])).Count.Should().Be(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InconsistentDimension_NamesTheRow(bool forwardOnly)
    {
        byte[] bytes = [.. Row(2, 1f, 2f), .. Row(2, 3f, 4f), .. Row(3, 5f, 6f, 7f), .. Row(2, 8f, 9f)];
        Stream stream = forwardOnly ? new ForwardOnlyStream(bytes) : new MemoryStream(bytes);

        FluentActions.Invoking(() => VecsReader.ReadFvecs(stream, sourceName: "base.fvecs"))
            .Should().Throw<InvalidDataException>()
            .WithMessage("'base.fvecs': inconsistent dimension in .fvecs row 2: 3, but row 0 has 2*");
    }

    [Fact]
    public void InconsistentDimensionInTheLastRow_IsReportedNotMistakenForTruncation()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("odd.fvecs", [.. Row(2, 1f, 2f), .. Row(1, 3f)]);

        FluentActions.Invoking(() => VecsReader.ReadFvecs(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*odd.fvecs*inconsistent dimension in .fvecs row 1: 1, but row 0 has 2*");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedLastRow_IsReported(bool forwardOnly)
    {
        byte[] full = [.. Row(3, 1f, 2f, 3f), .. Row(3, 4f, 5f, 6f)];
        byte[] bytes = full[..^6];
        Stream stream = forwardOnly ? new ForwardOnlyStream(bytes) : new MemoryStream(bytes);

        FluentActions.Invoking(() => VecsReader.ReadFvecs(stream, sourceName: "cut.fvecs"))
            .Should().Throw<InvalidDataException>()
            .WithMessage("'cut.fvecs': truncated .fvecs row 1: expected 16 bytes, got 10*");
    }

    [Fact]
    public void TruncatedFirstRow_IsReported()
    {
        FluentActions.Invoking(() => VecsReader.ReadIvecs(new MemoryStream([4, 0, 0, 0, 1, 0, 0, 0])))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated .ivecs row 0: expected 20 bytes, got 8*");
        FluentActions.Invoking(() => VecsReader.ReadIvecs(new MemoryStream([4, 0])))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated .ivecs row 0*got 2 bytes*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(int.MaxValue)]
    [InlineData(VecsReader.MaxDimension + 1)]
    public void AbsurdDimension_IsReported(int dimension)
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, dimension);

        FluentActions.Invoking(() => VecsReader.ReadFvecs(new MemoryStream(bytes), sourceName: "x.fvecs"))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"'x.fvecs': absurd dimension {dimension} in .fvecs row 0*");
        FluentActions.Invoking(() => VecsReader.ReadBvecs(new ForwardOnlyStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"*absurd dimension {dimension}*");
    }

    [Fact]
    public void LargeDimensionInAShortFile_IsReportedAsTruncatedBeforeAllocating()
    {
        byte[] bytes = [0, 0, 0, 1, 1, 2, 3, 4]; // dimension 16,777,216 = MaxDimension

        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => VecsReader.ReadFvecs(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated .fvecs row 0: expected 67108868 bytes, got 8*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1_000_000);
    }

    [Fact]
    public void WriterArguments_AreValidated()
    {
        FluentActions.Invoking(() => VecsWriter.WriteFvecs(new MemoryStream(), new float[7], 2))
            .Should().Throw<ArgumentException>().WithMessage("*not a multiple*");
        FluentActions.Invoking(() => VecsWriter.WriteFvecs(new MemoryStream(), new float[4], 0))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => VecsWriter.WriteBvecs(new MemoryStream([], writable: false), new byte[4], 2))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new VectorSet<float>(2, 3, new float[5])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => VecsReader.ReadFvecs(new MemoryStream(), maxRows: -1)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
