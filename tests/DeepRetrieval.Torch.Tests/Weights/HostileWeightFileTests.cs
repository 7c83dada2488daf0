using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DeepRetrieval.Torch.Weights;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Weights;

/// <summary>
/// Issue 16, finding 5: every size a checkpoint or safetensors file declares is bounded, with checked arithmetic, before
/// anything is allocated. Each case names what the code before the fix did with the same file.
/// </summary>
public sealed class HostileWeightFileTests
{
    [Fact]
    public void TorchCheckpoint_RejectsAHugeByteOrderEntry_WithoutReadingIt()
    {
        // Before: the byteorder entry was read to the end: 64 MB of 'l' deflated into a small file became a 64 MB string
        // (the 398 KB file reached 1.8 GB), quoted whole in the message.
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("byteorder.pt");
        CopyWithExtraEntry(WeightFixtures.Path("tiny.pt"), path, "byteorder", new string('l', 64 << 20));
        new FileInfo(path).Length.Should().BeLessThan(200_000);
        var thrown = FluentActions.Invoking(() => TorchCheckpoint.Load(path)).Should().Throw<InvalidDataException>()
            .WithMessage("*byteorder entry declares 67108864 bytes*");
        thrown.And.Message.Length.Should().BeLessThan(1000);
    }

    [Fact]
    public void TorchCheckpoint_RejectsAStorageCountWhoseByteSizeOverflows()
    {
        // Before: 2^62 float elements × 4 bytes wrapped to 0, matched the empty storage entry, and libtorch was asked for a
        // 2^62-element tensor (ExternalException "Storage size calculation overflowed").
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("overflow.pt");
        WriteCheckpoint(path, StateDictPickle(1L << 62), storageBytes: []);
        FluentActions.Invoking(() => TorchCheckpoint.Load(path)).Should().Throw<InvalidDataException>()
            .WithMessage($"*{path}*storage '0' has 0 bytes, not the 4611686018427387904 Float32 elements*");
    }

    [Fact]
    public void TorchCheckpoint_StillReadsTheHandWrittenCheckpoint_WhenItsStorageFits()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("fits.pt");
        WriteCheckpoint(path, StateDictPickle(1), storageBytes: BitConverter.GetBytes(2.5f));
        var tensors = TorchCheckpoint.Load(path);
        tensors["w"].data<float>().ToArray().Should().Equal(2.5f);
    }

    [Fact]
    public void SafeTensors_RejectsAnEmptyShapeWhoseOtherSizesOverflow()
    {
        // Before: [0, 2^62, 2^62] has 0 elements, so the header check passed and libtorch threw ExternalException ("Stride
        // calculation overflowed").
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("strides.safetensors");
        WriteSafeTensors(path, """{"w":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}""");
        FluentActions.Invoking(() => SafeTensors.Load(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*tensor 'w'*shape*");
    }

    [Fact]
    public void SafeTensors_RejectsMoreThan32Dimensions()
    {
        // Before: a rank-100 shape was accepted and handed to libtorch, whose kernels stop at 25 dimensions.
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("rank.safetensors");
        string shape = string.Join(",", Enumerable.Repeat(1, 100));
        WriteSafeTensors(path, "{\"w\":{\"dtype\":\"U8\",\"shape\":[" + shape + "],\"data_offsets\":[0,1]}}", data: [7]);
        FluentActions.Invoking(() => SafeTensors.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*tensor 'w'*");
    }

    [Theory]
    [InlineData("""{"__metadata__":{"note":"\udd00"}}""")]
    [InlineData("""{"\ud800":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}""")]
    [InlineData("""{"w":{"dtype":"\udfff","shape":[0],"data_offsets":[0,0]}}""")]
    public void SafeTensors_RejectsEscapedLoneSurrogates(string header)
    {
        // Found by the fuzzer's retrieval-model target: a metadata value escaping a lone UTF-16 surrogate is well-formed
        // JSON, and System.Text.Json throws InvalidOperationException when the string is read. Before: that exception
        // escaped SafeTensors.Load and RetrievalModel.Load.
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("surrogate.safetensors");
        WriteSafeTensors(path, header);
        FluentActions.Invoking(() => SafeTensors.Load(path)).Should().Throw<InvalidDataException>().WithMessage($"*{path}*not valid UTF-16*");
    }

    // A pickle of {"w": _rebuild_tensor_v2(storage('0', FloatStorage, count), 0, (1,), (1,), False)}, protocol 2, opcode by opcode.
    private static byte[] StateDictPickle(long storageCount)
    {
        var pickle = new MemoryStream();
        void Op(char opcode) => pickle.WriteByte((byte)opcode);
        void Text(string text)
        {
            Op('X');
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            pickle.Write(BitConverter.GetBytes(bytes.Length));
            pickle.Write(bytes);
        }
        void Global(string module, string name) => pickle.Write(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
        pickle.Write([0x80, 2]);
        Op('}');
        Text("w");
        Global("torch._utils", "_rebuild_tensor_v2");
        Op('(');
        Op('(');
        Text("storage");
        Global("torch", "FloatStorage");
        Text("0");
        Text("cpu");
        pickle.Write([0x8a, 8]);
        pickle.Write(BitConverter.GetBytes(storageCount));
        Op('t');
        Op('Q');
        pickle.Write([(byte)'K', 0]);
        pickle.Write([(byte)'K', 1, 0x85]);
        pickle.Write([(byte)'K', 1, 0x85]);
        pickle.WriteByte(0x89);
        Op('t');
        Op('R');
        Op('s');
        Op('.');
        return pickle.ToArray();
    }

    private static void WriteCheckpoint(string path, byte[] pickle, byte[] storageBytes)
    {
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        void Add(string name, byte[] bytes)
        {
            using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            stream.Write(bytes);
        }
        Add("archive/data.pkl", pickle);
        Add("archive/byteorder", "little"u8.ToArray());
        Add("archive/data/0", storageBytes);
    }

    private static void CopyWithExtraEntry(string source, string path, string entryName, string content)
    {
        File.Copy(source, path);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        string root = zip.Entries.First(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).FullName[..^"data.pkl".Length];
        zip.GetEntry(root + entryName)?.Delete();
        using var writer = new StreamWriter(zip.CreateEntry(root + entryName, CompressionLevel.SmallestSize).Open());
        writer.Write(content);
    }

    private static void WriteSafeTensors(string path, string header, byte[]? data = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        file.Write(data ?? []);
    }
}
