using System.Buffers.Binary;
using System.Text;

namespace DeepRetrieval.Torch.Onnx;

/// <summary>
/// Reads protobuf wire format (varints, fixed 32/64-bit values, length-delimited fields) from a byte range. Every failure is
/// an <see cref="InvalidDataException"/> naming the file and the message path being read, e.g. <c>graph.node[3].attribute[1]</c>.
/// </summary>
internal sealed class ProtobufReader
{
    private readonly ReadOnlyMemory<byte> _data;
    private int _position;

    public ProtobufReader(ReadOnlyMemory<byte> data, string fileName, string path)
    {
        _data = data;
        FileName = fileName;
        Path = path;
    }

    public string FileName { get; }

    public string Path { get; }

    public bool AtEnd => _position >= _data.Length;

    /// <summary>Reads the next tag; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (AtEnd)
            return false;
        ulong tag = ReadVarint("tag");
        wireType = (int)(tag & 7);
        ulong number = tag >> 3;
        if (number == 0 || number > int.MaxValue)
            throw Corrupt($"field number {number}");
        if (wireType is not (0 or 1 or 2 or 5))
            throw Corrupt($"wire type {wireType} of field {number}");
        field = (int)number;
        return true;
    }

    public ulong ReadVarint(string what)
    {
        var span = _data.Span;
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= span.Length)
                throw Truncated(what);
            byte b = span[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw Corrupt($"{what} (a varint longer than 10 bytes)");
    }

    public long ReadInt64(string what) => (long)ReadVarint(what);

    public int ReadInt32(string what) => (int)(long)ReadVarint(what);

    public float ReadFloat(string what) => BitConverter.Int32BitsToSingle((int)ReadFixed32(what));

    public uint ReadFixed32(string what)
    {
        var bytes = Take(4, what);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes.Span);
    }

    public ulong ReadFixed64(string what)
    {
        var bytes = Take(8, what);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes.Span);
    }

    public ReadOnlyMemory<byte> ReadBytes(string what)
    {
        ulong length = ReadVarint(what + " length");
        if (length > (ulong)(_data.Length - _position))
            throw Truncated($"{what} ({length} bytes announced, {_data.Length - _position} left)");
        return Take((int)length, what);
    }

    public string ReadString(string what)
    {
        var bytes = ReadBytes(what);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw Corrupt($"{what} (not UTF-8)");
        }
    }

    public ProtobufReader ReadMessage(string childPath) => new(ReadBytes(childPath), FileName, childPath);

    /// <summary>Reads a repeated varint field in either encoding (packed as one length-delimited field, or one value per tag).</summary>
    public void ReadRepeatedVarint(int wireType, List<long> into, string what)
    {
        if (wireType == 0)
        {
            into.Add(ReadInt64(what));
            return;
        }
        ExpectWireType(wireType, 2, what);
        var packed = ReadMessage(what);
        while (!packed.AtEnd)
            into.Add(packed.ReadInt64(what));
    }

    /// <summary>Reads a repeated float field in either encoding.</summary>
    public void ReadRepeatedFloat(int wireType, List<float> into, string what)
    {
        if (wireType == 5)
        {
            into.Add(ReadFloat(what));
            return;
        }
        ExpectWireType(wireType, 2, what);
        var bytes = ReadBytes(what);
        if (bytes.Length % 4 != 0)
            throw Corrupt($"{what} ({bytes.Length} bytes is not a whole number of floats)");
        for (int i = 0; i < bytes.Length; i += 4)
            into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes.Span[i..]));
    }

    /// <summary>Reads a repeated double field in either encoding.</summary>
    public void ReadRepeatedDouble(int wireType, List<double> into, string what)
    {
        if (wireType == 1)
        {
            into.Add(BitConverter.UInt64BitsToDouble(ReadFixed64(what)));
            return;
        }
        ExpectWireType(wireType, 2, what);
        var bytes = ReadBytes(what);
        if (bytes.Length % 8 != 0)
            throw Corrupt($"{what} ({bytes.Length} bytes is not a whole number of doubles)");
        for (int i = 0; i < bytes.Length; i += 8)
            into.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes.Span[i..]));
    }

    public void ExpectWireType(int actual, int expected, string what)
    {
        if (actual != expected)
            throw Corrupt($"{what} (wire type {actual}, expected {expected})");
    }

    public void Skip(int wireType, int field)
    {
        string what = $"unknown field {field}";
        switch (wireType)
        {
            case 0: ReadVarint(what); break;
            case 1: Take(8, what); break;
            case 2: ReadBytes(what); break;
            case 5: Take(4, what); break;
            default: throw Corrupt($"wire type {wireType} of field {field}");
        }
    }

    public InvalidDataException Corrupt(string what) =>
        new($"ONNX file '{FileName}' is corrupt: {Path}: invalid {what}.");

    public InvalidDataException Truncated(string what) =>
        new($"ONNX file '{FileName}' is truncated or corrupt: {Path}: {what} runs past the end of its message.");

    private ReadOnlyMemory<byte> Take(int count, string what)
    {
        if (count > _data.Length - _position)
            throw Truncated(what);
        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}
