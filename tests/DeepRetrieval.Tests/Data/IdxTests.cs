using System.Buffers.Binary;
using System.IO.Compression;
using DeepRetrieval.Data;

namespace DeepRetrieval.Tests.Data;

public sealed class IdxTests
{
    private static IdxImages SampleImages(int count = 3, int rows = 2, int columns = 3)
    {
        var pixels = new byte[count * rows * columns];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(i * 37 % 256);
        return new IdxImages(count, rows, columns, pixels);
    }

    private static byte[] ImageHeader(uint magic, uint count, uint rows, uint columns)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(header, magic);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), count);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), rows);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), columns);
        return header;
    }

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(content);
        return output.ToArray();
    }

    [Fact]
    public void HandBuiltImageFile_IsParsed()
    {
        byte[] bytes = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

        IdxImages images = IdxReader.ReadImages(new MemoryStream(bytes));

        images.Count.Should().Be(2);
        images.Rows.Should().Be(2);
        images.Columns.Should().Be(3);
        images.PixelsPerImage.Should().Be(6);
        images.Pixels.Should().Equal(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        images.GetImage(1).ToArray().Should().Equal(7, 8, 9, 10, 11, 12);
    }

    [Fact]
    public void HandBuiltLabelFile_IsParsed()
    {
        byte[] bytes = [0, 0, 8, 1, 0, 0, 0, 4, 9, 0, 3, 7];

        IdxReader.ReadLabels(new MemoryStream(bytes)).Should().Equal(9, 0, 3, 7);
    }

    [Theory]
    [InlineData("images-idx3-ubyte", null)]
    [InlineData("images-idx3-ubyte.gz", null)]
    [InlineData("images-idx3-ubyte", true)]
    [InlineData("images-idx3-ubyte.gz", false)]
    public void Images_RoundTripThroughFiles(string fileName, bool? gzip)
    {
        using var dir = new TempDirectory();
        string path = dir.File(fileName);
        IdxImages original = SampleImages();

        IdxWriter.WriteImages(path, original, gzip);

        byte[] raw = File.ReadAllBytes(path);
        bool expectGzip = gzip ?? fileName.EndsWith(".gz", StringComparison.Ordinal);
        (raw[0] == 0x1F && raw[1] == 0x8B).Should().Be(expectGzip);
        IdxImages read = IdxReader.ReadImages(path);
        read.Count.Should().Be(original.Count);
        read.Rows.Should().Be(original.Rows);
        read.Columns.Should().Be(original.Columns);
        read.Pixels.Should().Equal(original.Pixels);
        Directory.GetFiles(dir.Path).Should().ContainSingle("the temporary file is renamed into place");
    }

    [Theory]
    [InlineData("labels-idx1-ubyte")]
    [InlineData("labels-idx1-ubyte.gz")]
    public void Labels_RoundTripThroughFiles(string fileName)
    {
        using var dir = new TempDirectory();
        string path = dir.File(fileName);
        byte[] labels = [3, 1, 4, 1, 5, 9, 2, 6];

        IdxWriter.WriteLabels(path, labels);

        IdxReader.ReadLabels(path).Should().Equal(labels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForwardOnlyStreams_AreRead(bool gzip)
    {
        IdxImages original = SampleImages(count: 5);
        using var imageBuffer = new MemoryStream();
        IdxWriter.WriteImages(imageBuffer, original, gzip);
        using var labelBuffer = new MemoryStream();
        IdxWriter.WriteLabels(labelBuffer, [1, 2, 3, 4, 5], gzip);

        IdxImages images = IdxReader.ReadImages(new ForwardOnlyStream(imageBuffer.ToArray()));
        byte[] labels = IdxReader.ReadLabels(new ForwardOnlyStream(labelBuffer.ToArray()));

        images.Pixels.Should().Equal(original.Pixels);
        labels.Should().Equal(1, 2, 3, 4, 5);
    }

    [Fact]
    public void WritingToAStream_LeavesItOpen()
    {
        using var buffer = new MemoryStream();
        IdxWriter.WriteImages(buffer, SampleImages(), gzip: true);
        IdxWriter.WriteLabels(buffer, [1], gzip: true);

        buffer.CanWrite.Should().BeTrue();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MaxCount_ReadsOnlyTheFirstItems(bool gzip)
    {
        using var dir = new TempDirectory();
        IdxImages original = SampleImages(count: 10);
        string imagesPath = dir.File("images");
        string labelsPath = dir.File("labels");
        IdxWriter.WriteImages(imagesPath, original, gzip);
        IdxWriter.WriteLabels(labelsPath, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], gzip);

        IdxImages first = IdxReader.ReadImages(imagesPath, maxCount: 4);
        first.Count.Should().Be(4);
        first.Pixels.Should().Equal(original.Pixels.Take(4 * original.PixelsPerImage));
        IdxReader.ReadLabels(labelsPath, maxCount: 3).Should().Equal(0, 1, 2);
        IdxReader.ReadImages(imagesPath, maxCount: 0).Count.Should().Be(0);
        IdxReader.ReadImages(imagesPath, maxCount: 1000).Count.Should().Be(10, "a limit above the count reads everything");
    }

    [Fact]
    public void ToFloat_ScalesAndOffsets()
    {
        var images = new IdxImages(1, 1, 3, [0, 51, 255]);

        images.ToFloat().Should().Equal([0f, 0.2f, 1f], (a, b) => Math.Abs(a - b) < 1e-6f);
        images.ToFloat(scale: 2f, offset: -1f).Should().Equal(-1f, 101f, 509f);
        var destination = new float[3];
        images.ToFloat(destination, 1f);
        destination.Should().Equal(0f, 51f, 255f);
        FluentActions.Invoking(() => images.ToFloat(new float[2])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Slice_CopiesARange()
    {
        IdxImages images = SampleImages(count: 4);

        IdxImages slice = images.Slice(1, 2);

        slice.Count.Should().Be(2);
        slice.Pixels.Should().Equal(images.Pixels.Skip(images.PixelsPerImage).Take(2 * images.PixelsPerImage));
        FluentActions.Invoking(() => images.Slice(3, 2)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void BadArguments_Throw()
    {
        FluentActions.Invoking(() => new IdxImages(2, 2, 2, new byte[7])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new IdxImages(1, 0, 2, [])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream(), maxCount: -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => IdxReader.ReadLabels((Stream)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => IdxReader.ReadLabels("")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => SampleImages().GetImage(3)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void BadMagic_NamesTheFile()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("not-idx.bin", "PK\u0003\u0004 this is a zip file"u8.ToArray());

        FluentActions.Invoking(() => IdxReader.ReadImages(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*not-idx.bin*bad magic 0x504B0304*expected 0x00000803*");
    }

    [Fact]
    public void WrongDataType_IsReported()
    {
        byte[] bytes = [.. ImageHeader(0x00000D03, 1, 1, 1), 0, 0, 0, 0];

        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream(bytes), sourceName: "floats.idx"))
            .Should().Throw<InvalidDataException>()
            .WithMessage("'floats.idx': IDX data type 0x0D (float32) is not supported*");
    }

    [Fact]
    public void LabelFileReadAsImages_SaysSo()
    {
        byte[] bytes = [0, 0, 8, 1, 0, 0, 0, 1, 5];

        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*bad magic 0x00000801*this is an IDX label file*");
        FluentActions.Invoking(() => IdxReader.ReadLabels(new MemoryStream(ImageHeader(IdxReader.ImagesMagic, 0, 1, 1))))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*this is an IDX image file*");
    }

    [Fact]
    public void TruncatedHeader_IsReported()
    {
        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream([0, 0, 8, 3, 0, 0]), sourceName: "short"))
            .Should().Throw<InvalidDataException>()
            .WithMessage("'short': truncated IDX image header: expected 12 bytes, got 2*");
        FluentActions.Invoking(() => IdxReader.ReadLabels(new MemoryStream([0, 0])))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated IDX header: expected 4 bytes, got 2*");
    }

    [Fact]
    public void HeaderClaimingMoreImagesThanTheFileHolds_IsReportedBeforeReading()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("train-images-idx3-ubyte", [.. ImageHeader(IdxReader.ImagesMagic, 3, 2, 2), .. new byte[8]]);

        FluentActions.Invoking(() => IdxReader.ReadImages(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*train-images-idx3-ubyte*truncated IDX data: the header declares 3 images of 2×2 bytes each = 12 bytes, but only 8 bytes follow*");
        FluentActions.Invoking(() => IdxReader.ReadImages(path, maxCount: 1))
            .Should().Throw<InvalidDataException>("the whole file is checked even when reading a prefix");
    }

    [Fact]
    public void HeaderClaimingMoreLabelsThanTheFileHolds_IsReported()
    {
        byte[] bytes = [0, 0, 8, 1, 0, 0, 0, 5, 1, 2];

        FluentActions.Invoking(() => IdxReader.ReadLabels(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*declares 5 labels*5 bytes, but only 2 bytes follow*");
        FluentActions.Invoking(() => IdxReader.ReadLabels(new ForwardOnlyStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated IDX label data: expected 5 bytes, got 2*");
    }

    [Fact]
    public void TrailingBytes_AreReported()
    {
        byte[] bytes = [0, 0, 8, 1, 0, 0, 0, 1, 1, 2, 3];

        FluentActions.Invoking(() => IdxReader.ReadLabels(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*2 trailing*");
        FluentActions.Invoking(() => IdxReader.ReadLabels(new MemoryStream(Gzip(bytes)), sourceName: "labels.gz"))
            .Should().Throw<InvalidDataException>()
            .WithMessage("'labels.gz': trailing data after the 1 declared labels*");
    }

    [Fact]
    public void TruncatedGzipPayload_IsReported()
    {
        byte[] bytes = Gzip([.. ImageHeader(IdxReader.ImagesMagic, 4, 2, 2), .. new byte[10]]);

        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream(bytes), sourceName: "images.gz"))
            .Should().Throw<InvalidDataException>()
            .WithMessage("'images.gz': truncated IDX pixel data: expected 16 bytes, got 10*");
    }

    [Fact]
    public void CutOffGzipFile_IsReportedWithTheFileName()
    {
        using var dir = new TempDirectory();
        var pixels = new byte[5000];
        new Random(1).NextBytes(pixels);
        using var buffer = new MemoryStream();
        IdxWriter.WriteImages(buffer, new IdxImages(5, 20, 50, pixels), gzip: true);
        byte[] gz = buffer.ToArray();
        string path = dir.Write("cut.gz", gz[..(gz.Length / 2)]);

        FluentActions.Invoking(() => IdxReader.ReadImages(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*cut.gz*");
    }

    [Theory]
    [InlineData(0u, 28u)]
    [InlineData(28u, 0u)]
    [InlineData(28u, 1_000_000u)]
    public void AbsurdImageSize_IsReported(uint rows, uint columns)
    {
        byte[] bytes = ImageHeader(IdxReader.ImagesMagic, 1, rows, columns);

        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"*absurd image size {rows}×{columns}*");
    }

    [Fact]
    public void HugeDeclaredCount_InAGzipStream_FailsWithoutAllocatingIt()
    {
        // 4 billion 28×28 images cannot fit one array; 2 million (1.5 GB) could, but only 784 bytes are present.
        byte[] tooMany = Gzip([.. ImageHeader(IdxReader.ImagesMagic, uint.MaxValue, 28, 28), .. new byte[784]]);
        byte[] lying = Gzip([.. ImageHeader(IdxReader.ImagesMagic, 2_000_000, 28, 28), .. new byte[784]]);

        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream(tooMany)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*more than one array can hold*");
        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => IdxReader.ReadImages(new MemoryStream(lying)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated IDX pixel data: expected 1568000000 bytes, got 784*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(100_000_000);
    }
}
