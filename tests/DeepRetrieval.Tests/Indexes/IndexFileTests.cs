using DeepRetrieval.Indexes;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

public sealed class IndexFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("deepretrieval-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static FlatIndex SampleIndex()
    {
        var index = new FlatIndex(8, Metric.Cosine);
        index.Add(TestData.Gaussian(50, 8, 1), Enumerable.Range(0, 50).Select(i => 3L * i).ToArray());
        index.Remove([6]);
        return index;
    }

    private static byte[] Bytes(IVectorIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void SaveAndLoad_RoundTrip_ReturnsIdenticalResults()
    {
        FlatIndex original = SampleIndex();
        string path = Path.Combine(_directory, "flat.drix");
        original.Save(path);
        IVectorIndex loaded = IndexFile.Load(path);

        loaded.Should().BeOfType<FlatIndex>();
        loaded.Count.Should().Be(49);
        loaded.Metric.Should().Be(Metric.Cosine);
        ((FlatIndex)loaded).NextId.Should().Be(original.NextId);
        float[] queries = TestData.Gaussian(5, 8, 2);
        var expected = original.Search(queries, 7);
        var actual = ((FlatIndex)loaded).Search(queries, 7);
        actual.Ids.Should().Equal(expected.Ids);
        actual.Distances.Should().Equal(expected.Distances);
        Directory.GetFiles(_directory).Should().ContainSingle("the temporary file is renamed, not left behind");
    }

    [Fact]
    public void Load_FromNonSeekableStream_Works()
    {
        byte[] bytes = Bytes(SampleIndex());
        using var pipe = new NonSeekableStream(bytes);
        IndexFile.Load(pipe).Count.Should().Be(49);
    }

    [Fact]
    public void Load_RejectsForeignFile()
    {
        var act = () => IndexFile.Load(new MemoryStream("PK\u0003\u0004 this is a zip, not an index"u8.ToArray()));
        act.Should().Throw<InvalidDataException>().WithMessage("*magic*");
    }

    [Fact]
    public void Load_RejectsNewerVersion()
    {
        byte[] bytes = Bytes(SampleIndex());
        bytes[4] = 99;
        var act = () => IndexFile.Load(new MemoryStream(bytes));
        act.Should().Throw<InvalidDataException>().WithMessage("*version 99*up to 2*");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(100)]
    [InlineData(1000)]
    public void Load_RejectsTruncatedFile(int missing)
    {
        byte[] bytes = Bytes(SampleIndex());
        var act = () => IndexFile.Load(new MemoryStream(bytes[..^missing]));
        act.Should().Throw<InvalidDataException>().WithMessage("*runcated*");
    }

    [Fact]
    public void Load_RejectsCorruptPayload()
    {
        byte[] bytes = Bytes(SampleIndex());
        bytes[bytes.Length / 2] ^= 0x40;
        var act = () => IndexFile.Load(new MemoryStream(bytes));
        act.Should().Throw<InvalidDataException>().WithMessage("*checksum*");
    }

    [Fact]
    public void Load_RejectsUnknownKind()
    {
        using var stream = new MemoryStream();
        IndexFileFormat.Write(stream, "Hypercube", w => w.WriteInt32(1));
        stream.Position = 0;
        var act = () => IndexFile.Load(stream);
        act.Should().Throw<InvalidDataException>().WithMessage("*Unknown index kind \"Hypercube\"*");
    }

    [Fact]
    public void Load_RejectsAbsurdCounts_BeforeAllocating()
    {
        // A valid container whose payload claims 2^40 vectors: must fail on size, not run out of memory.
        using var stream = new MemoryStream();
        IndexFileFormat.Write(stream, "Flat", w =>
        {
            w.WriteInt32(4);
            w.WriteInt32(0);
            w.WriteInt64(1L << 40);
            w.WriteInt64(0);
        });
        stream.Position = 0;
        var act = () => IndexFile.Load(stream);
        act.Should().Throw<InvalidDataException>().WithMessage("*count*");
    }

    [Fact]
    public void Load_RejectsDuplicateIdsInPayload()
    {
        using var stream = new MemoryStream();
        IndexFileFormat.Write(stream, "Flat", w =>
        {
            w.WriteInt32(1);
            w.WriteInt32(0);
            w.WriteInt64(2);
            w.WriteInt64(10);
            w.WriteSpan<long>([4, 4]);
            w.WriteSpan<float>([1f, 2f]);
        });
        stream.Position = 0;
        var act = () => IndexFile.Load(stream);
        act.Should().Throw<InvalidDataException>().WithMessage("*Corrupt Flat index file*4*");
    }

    [Fact]
    public void Load_FromMissingFile_NamesTheFile()
    {
        var act = () => IndexFile.Load(Path.Combine(_directory, "nope.drix"));
        act.Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void Load_FromFile_PrefixesPathToErrors()
    {
        string path = Path.Combine(_directory, "bad.drix");
        File.WriteAllBytes(path, [1, 2, 3]);
        var act = () => IndexFile.Load(path);
        act.Should().Throw<InvalidDataException>().WithMessage($"{path}*");
    }

    [Fact]
    public void Save_FailureLeavesExistingFileIntact()
    {
        string path = Path.Combine(_directory, "keep.drix");
        SampleIndex().Save(path);
        byte[] before = File.ReadAllBytes(path);
        var act = () => IndexFile.Save(new ThrowingIndex(), path);
        act.Should().Throw<IOException>();
        File.ReadAllBytes(path).Should().Equal(before);
        Directory.GetFiles(_directory).Should().ContainSingle();
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    // An index whose save fails halfway, as a full disk would.
    private sealed class ThrowingIndex : FlatIndex0
    {
        public override void Save(Stream stream)
        {
            stream.Write(new byte[100]);
            throw new IOException("disk full");
        }
    }

    private abstract class FlatIndex0 : IIndex
    {
        public long Count => 0;
        public string Kind => "Throwing";
        public bool IsTrained => true;
        public long MemoryUsageBytes => 0;
        public bool Contains(long id) => false;
        public long[] GetIds() => [];
        public int Remove(ReadOnlySpan<long> ids) => 0;
        public abstract void Save(Stream stream);
    }
}
