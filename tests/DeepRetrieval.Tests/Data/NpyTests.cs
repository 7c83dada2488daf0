using System.Buffers.Binary;
using System.Text;
using DeepRetrieval.Data;

namespace DeepRetrieval.Tests.Data;

public sealed class NpyTests
{
    /// <summary>Builds an .npy file the way NumPy lays it out: preamble, padded header dict, then the payload.</summary>
    private static byte[] Npy(string dict, byte[] payload, int major = 1, Encoding? encoding = null)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] dictBytes = (encoding ?? Encoding.Latin1).GetBytes(dict);
        int unpadded = 8 + lengthBytes + dictBytes.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        byte[] header = [.. dictBytes, .. Enumerable.Repeat((byte)' ', padding), (byte)'\n'];
        var prefix = new byte[8 + lengthBytes];
        prefix[0] = 0x93;
        "NUMPY"u8.CopyTo(prefix.AsSpan(1));
        prefix[6] = (byte)major;
        if (lengthBytes == 2)
            BinaryPrimitives.WriteUInt16LittleEndian(prefix.AsSpan(8), (ushort)header.Length);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(8), (uint)header.Length);
        return [.. prefix, .. header, .. payload];
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    [Fact]
    public void HandBuiltVersion1File_IsParsed()
    {
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(1, 2, 3, 4, 5, 6));

        NpyArray array = NpyReader.Read(new MemoryStream(bytes));

        array.Shape.Should().Equal(2, 3);
        array.Rows.Should().Be(2);
        array.Columns.Should().Be(3);
        array.Data.Should().Equal(1f, 2f, 3f, 4f, 5f, 6f);
        VectorSet<float> set = array.ToVectorSet();
        set.GetRow(1).ToArray().Should().Equal(4f, 5f, 6f);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Versions2And3_AreParsed(int major)
    {
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", Floats(7, 8), major, Encoding.UTF8);

        NpyReader.Read(new MemoryStream(bytes)).Data.Should().Equal(7f, 8f);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }")]
    [InlineData("{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}")]
    [InlineData("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3L,)}")]
    [InlineData("{'descr':'<f4','fortran_order':False,'shape':[3]}")]
    public void HeaderVariants_AreAccepted(string dict)
    {
        NpyArray array = NpyReader.Read(new MemoryStream(Npy(dict, Floats(1, 2, 3))));

        array.Shape.Should().Equal(3);
        array.Rows.Should().Be(3);
        array.Columns.Should().Be(1);
        array.Data.Should().Equal(1f, 2f, 3f);
    }

    [Fact]
    public void Matrix_RoundTripsThroughAFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("features.npy");
        float[] data = [.. Enumerable.Range(0, 12).Select(i => i * 0.25f - 1f)];

        NpyWriter.Write(path, data, 4, 3);

        byte[] raw = File.ReadAllBytes(path);
        raw.AsSpan(0, 8).ToArray().Should().Equal(0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(8));
        ((10 + headerLength) % 64).Should().Be(0, "NumPy aligns the data on 64 bytes");
        Encoding.Latin1.GetString(raw, 10, headerLength)
            .Should().Be("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }".PadRight(headerLength - 1) + "\n");
        raw.Length.Should().Be(10 + headerLength + 48);

        NpyArray read = NpyReader.Read(path);
        read.Shape.Should().Equal(4, 3);
        read.Data.Should().Equal(data);
    }

    [Fact]
    public void VectorAndVectorSet_RoundTrip()
    {
        using var dir = new TempDirectory();
        NpyWriter.WriteVector(dir.File("v.npy"), [1f, float.NaN, float.NegativeInfinity]);
        NpyWriter.Write(dir.File("m.npy"), new VectorSet<float>(2, 2, [1, 2, 3, 4]));
        NpyWriter.Write(dir.File("empty.npy"), ReadOnlySpan<float>.Empty, 0, 5);

        NpyArray vector = NpyReader.Read(dir.File("v.npy"));
        vector.Shape.Should().Equal(3);
        vector.Data[0].Should().Be(1f);
        float.IsNaN(vector.Data[1]).Should().BeTrue();
        NpyReader.Read(dir.File("m.npy")).ToVectorSet().Data.Should().Equal(1f, 2f, 3f, 4f);
        NpyReader.Read(dir.File("empty.npy")).Shape.Should().Equal(0, 5);
    }

    [Fact]
    public void ArraysSavedOneAfterAnother_AreReadInTurn()
    {
        using var buffer = new MemoryStream();
        NpyWriter.Write(buffer, [1f, 2f], 1, 2);
        NpyWriter.WriteVector(buffer, [3f, 4f, 5f]);
        buffer.Position = 0;

        NpyReader.Read(buffer).Data.Should().Equal(1f, 2f);
        NpyReader.Read(buffer).Data.Should().Equal(3f, 4f, 5f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MaxRows_ReadsOnlyTheFirstRows(bool forwardOnly)
    {
        using var buffer = new MemoryStream();
        NpyWriter.Write(buffer, [1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
        byte[] bytes = buffer.ToArray();

        NpyArray first = NpyReader.Read(forwardOnly ? new ForwardOnlyStream(bytes) : new MemoryStream(bytes), maxRows: 2);

        first.Shape.Should().Equal(2, 2);
        first.Data.Should().Equal(1f, 2f, 3f, 4f);
    }

    [Fact]
    public void BadMagic_NamesTheFile()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("features.npy", "PK\u0003\u0004 npz archive, not npy"u8.ToArray());

        FluentActions.Invoking(() => NpyReader.Read(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*features.npy*bad magic 504B0304206E*not an .npy file*");
    }

    [Fact]
    public void UnknownVersion_IsReported()
    {
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Floats(1));
        bytes[6] = 4;

        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*unsupported .npy format version 4.0*");
    }

    [Theory]
    [InlineData("<f8")]
    [InlineData(">f4")]
    [InlineData("<i4")]
    [InlineData("|u1")]
    public void OtherDtypes_AreRejected(string dtype)
    {
        byte[] bytes = Npy($"{{'descr': '{dtype}', 'fortran_order': False, 'shape': (1,), }}", new byte[8]);

        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(bytes), sourceName: "x.npy"))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"'x.npy': dtype '{dtype}' is not supported: expected '<f4' (little-endian float32)*");
    }

    [Fact]
    public void StructuredDtype_IsRejected()
    {
        byte[] bytes = Npy("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }", new byte[8]);

        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*structured dtypes are not supported*");
    }

    [Fact]
    public void FortranOrder_IsRejected()
    {
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", Floats(1, 2, 3, 4));

        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*fortran_order True (column-major) is not supported*");
    }

    [Theory]
    [InlineData("(2, 2, 1)", "shape (2, 2, 1) has 3 dimensions: expected (n,) or (n, d)")]
    [InlineData("()", "shape () has 0 dimensions*")]
    [InlineData("(99999999999, 3)", "absurd size 99999999999 in shape (99999999999, 3)")]
    [InlineData("(-1, 3)", "absurd size -1*")]
    [InlineData("(2000000000, 2000000000)", "absurd shape (2000000000, 2000000000)*")]
    [InlineData("('a', 3)", "'shape' must be a tuple of integers*")]
    public void BadShapes_AreRejected(string shape, string message)
    {
        byte[] bytes = Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", Floats(1, 2, 3, 4));

        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*" + message + "*");
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "no 'shape' key")]
    [InlineData("{'fortran_order': False, 'shape': (1,)}", "no 'descr' key")]
    [InlineData("{'descr': '<f4', 'shape': (1,)}", "no 'fortran_order' key")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "malformed .npy header*but the header ended")]
    [InlineData("descr = '<f4'", "malformed .npy header*expected a dict literal")]
    [InlineData("{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,)}", "malformed .npy header*unsupported name 'maybe'")]
    [InlineData("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "duplicate key 'descr'")]
    public void MalformedHeaders_AreReported(string dict, string message)
    {
        byte[] bytes = Npy(dict, Floats(1));

        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(bytes), sourceName: "h.npy"))
            .Should().Throw<InvalidDataException>()
            .WithMessage("'h.npy': *" + message + "*");
    }

    [Fact]
    public void TruncatedData_IsReportedBeforeReading()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("cut.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), }", Floats(1, 2, 3, 4, 5, 6)));

        FluentActions.Invoking(() => NpyReader.Read(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*cut.npy*truncated .npy data: shape (10, 3) needs 120 bytes, got 24*");
    }

    [Fact]
    public void TruncatedDataInAForwardOnlyStream_IsReportedWithoutAllocatingTheDeclaredSize()
    {
        // 10 million × 10 floats would be 400 MB; only 8 bytes are there.
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10000000, 10), }", Floats(1, 2));

        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => NpyReader.Read(new ForwardOnlyStream(bytes, maxChunk: 1 << 20)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated .npy data: expected 400000000 bytes, got 8*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(100_000_000);
    }

    [Fact]
    public void TooManyValuesForOneArray_IsReported()
    {
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000, 3), }", []);

        FluentActions.Invoking(() => NpyReader.Read(new ForwardOnlyStream(bytes)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*more than one array can hold; pass maxRows*");
    }

    [Fact]
    public void TruncatedOrAbsurdHeaders_AreReported()
    {
        byte[] good = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Floats(1));
        byte[] absurd = [.. good[..6], 2, 0, 0xF0, 0xFF, 0xFF, 0xFF, .. good[10..]];

        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(good[..30])))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated .npy header: expected 118 bytes, got 20*");
        FluentActions.Invoking(() => NpyReader.Read(new ForwardOnlyStream(good[..30])))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated .npy header: expected 118 bytes, got 20*");
        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(good[..5])))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*truncated .npy preamble: expected 8 bytes, got 5*");
        FluentActions.Invoking(() => NpyReader.Read(new MemoryStream(absurd)))
            .Should().Throw<InvalidDataException>()
            .WithMessage("*absurd .npy header length 4294967280*");
    }

    [Fact]
    public void WriterArguments_AreValidated()
    {
        FluentActions.Invoking(() => NpyWriter.Write(new MemoryStream(), new float[5], 2, 3))
            .Should().Throw<ArgumentException>().WithMessage("*rows × columns*");
        FluentActions.Invoking(() => NpyWriter.Write(new MemoryStream(), [], -1, 0))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new NpyArray([1, 2, 3], new float[6])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new NpyArray([2, 3], new float[5])).Should().Throw<ArgumentException>();
    }
}
