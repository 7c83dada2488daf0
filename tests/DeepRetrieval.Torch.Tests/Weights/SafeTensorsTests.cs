using System.Buffers.Binary;
using System.Text;
using DeepRetrieval.Torch.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Weights;

public sealed class SafeTensorsTests
{
    [Fact]
    public void SaveThenLoad_RestoresEveryDtypeBitForBit_AndTheMetadata()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = tensor(new[] { 1.5, double.NaN, -0.0 }),
            ["f32"] = randn(2, 3),
            ["f16"] = randn(4).to(ScalarType.Float16),
            ["bf16"] = randn(2, 2).to(ScalarType.BFloat16),
            ["i64"] = tensor(new long[] { long.MinValue, 1L << 40 }),
            ["i32"] = tensor(new[] { -7, 9 }),
            ["i16"] = tensor(new short[] { -3, 300 }),
            ["i8"] = tensor(new sbyte[] { -128, 127 }),
            ["u8"] = tensor(new byte[] { 0, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["empty"] = zeros(0, 3),
            ["scalar"] = tensor(2.5f),
            ["transposed"] = arange(6, dtype: ScalarType.Float32).reshape(2, 3).t(),
        };
        string path = dir.File("all.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" });

        var content = SafeTensors.Load(path);
        content.Tensors.Keys.Should().Equal(tensors.Keys);
        content.Metadata.Should().BeEquivalentTo(new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" });
        foreach (var (name, expected) in tensors)
        {
            var actual = content.Tensors[name];
            actual.dtype.Should().Be(expected.dtype, name);
            actual.shape.Should().Equal(expected.shape, name);
            if (expected.numel() > 0)
                actual.bytes.ToArray().Should().Equal(expected.contiguous().bytes.ToArray(), name);
        }
        content.Tensors["transposed"].data<float>().ToArray().Should().Equal(0, 3, 1, 4, 2, 5);
        Directory.GetFiles(dir.Root).Should().Equal(path);
    }

    [Fact]
    public void Load_ReadsIndependentlyWrittenBytes()
    {
        using var scope = NewDisposeScope();
        var content = SafeTensors.Load(WeightFixtures.Path("dtypes.safetensors"));
        content.Tensors["bf16"].dtype.Should().Be(ScalarType.BFloat16);
        content.Tensors["bf16"].to(ScalarType.Float32).data<float>().ToArray().Should().Equal(1f, -0.5f, 3f);
        content.Tensors["i64"].data<long>().ToArray().Should().Equal(-3, 1L << 40);
        content.Metadata.Should().BeEmpty();

        var header = SafeTensors.ReadHeader(WeightFixtures.Path("tiny.safetensors"));
        header.Metadata.Should().ContainKey("source").WhoseValue.Should().Be("make_fixtures.py");
        header.Entries.Select(e => e.Name).Should().StartWith("conv.weight");
        header.Entries[0].Shape.Should().Equal(4L, 3L, 3L, 3L);
    }

    [Fact]
    public void Load_HandBuiltFile_GivesTheHandValues()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        // Two float32 values then one int16: 1.0 = 00 00 80 3F, -2.0 = 00 00 00 C0, 513 = 01 02.
        string path = Write(dir, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I16","shape":[1,1],"data_offsets":[8,10]}}""",
            [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0, 1, 2]);
        var content = SafeTensors.Load(path);
        content.Tensors["a"].data<float>().ToArray().Should().Equal(1f, -2f);
        content.Tensors["b"].shape.Should().Equal(1L, 1L);
        content.Tensors["b"].data<short>().ToArray().Should().Equal((short)513);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""", 8, "*well-formed JSON*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 16, "*'a' twice*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}""", 8, "*'a'*past the end*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "*'a'*shape [3]*12 bytes*8*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "*'b' overlaps*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "*gap of 4 bytes before tensor 'a'*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, "*cover 4 bytes*has 8*")]
    [InlineData("""{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", 8, "*'a'*dtype 'C64'*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}""", 8, "*'a'*non-negative*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", 8, "*'a'*too many*")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2]}}""", 8, "*'a'*data_offsets*")]
    [InlineData("""[1,2]""", 8, "*must be a JSON object*")]
    [InlineData("""{"__metadata__":{"k":1}}""", 0, "*metadata value 'k'*")]
    public void Load_RejectsCorruptHeaders_NamingFileAndTensor(string header, int bufferBytes, string message)
    {
        using var dir = new WeightFixtures.TempDirectory();
        string path = Write(dir, header, new byte[bufferBytes]);
        FluentActions.Invoking(() => SafeTensors.Load(path)).Should().Throw<InvalidDataException>().WithMessage(message).And.Message.Should().Contain(path);
    }

    [Fact]
    public void Load_WithAnySingleCorruptHeaderByte_EitherLoadsOrThrowsInvalidData()
    {
        using var dir = new WeightFixtures.TempDirectory();
        byte[] original = File.ReadAllBytes(WeightFixtures.Path("tiny.safetensors"));
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        string path = dir.File("fuzz.safetensors");
        var unexpected = new List<string>();
        for (int i = 0; i < headerEnd; i += 3)
        {
            byte[] corrupt = (byte[])original.Clone();
            corrupt[i] ^= (byte)(i % 4 == 0 ? 0xFF : 0x01);
            File.WriteAllBytes(path, corrupt);
            using var scope = NewDisposeScope();
            try
            {
                SafeTensors.Load(path);
            }
            catch (InvalidDataException)
            {
            }
            catch (Exception e)
            {
                unexpected.Add($"byte {i}: {e.GetType().Name}: {e.Message}");
            }
        }
        unexpected.Should().BeEmpty();
    }

    [Fact]
    public void Load_RejectsHeaderLengthsBeyondTheFile_AndTinyFiles()
    {
        using var dir = new WeightFixtures.TempDirectory();
        string huge = dir.File("huge.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        File.WriteAllBytes(huge, bytes);
        FluentActions.Invoking(() => SafeTensors.Load(huge)).Should().Throw<InvalidDataException>().WithMessage("*header length*does not fit*");
        string tiny = dir.File("tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        FluentActions.Invoking(() => SafeTensors.Load(tiny)).Should().Throw<InvalidDataException>().WithMessage("*too short*");
    }

    [Fact]
    public void Save_ReplacesAnExistingFile_AndLeavesItIntactWhenTheInputIsRejected()
    {
        using var scope = NewDisposeScope();
        using var dir = new WeightFixtures.TempDirectory();
        string path = dir.File("w.safetensors");
        SafeTensors.Save(path, [new("a", ones(2))]);
        SafeTensors.Save(path, [new("b", zeros(3))]);
        SafeTensors.Load(path).Tensors.Keys.Should().Equal("b");

        FluentActions.Invoking(() => SafeTensors.Save(path, [new("c", ones(2, dtype: ScalarType.ComplexFloat32))]))
            .Should().Throw<ArgumentException>().WithMessage("*'c'*ComplexFloat32*");
        FluentActions.Invoking(() => SafeTensors.Save(path, [new("d", ones(1)), new("d", ones(1))]))
            .Should().Throw<ArgumentException>().WithMessage("*'d' appears twice*");
        SafeTensors.Load(path).Tensors.Keys.Should().Equal("b");
        Directory.GetFiles(dir.Root).Should().Equal(path);
    }

    private static string Write(WeightFixtures.TempDirectory dir, string header, byte[] buffer)
    {
        string path = dir.File($"{Guid.NewGuid():N}.safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + buffer.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        buffer.CopyTo(bytes, 8 + json.Length);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
