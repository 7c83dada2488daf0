namespace DeepRetrieval.OnnxRuntime.Models;

/// <summary>
/// Walks the fields of one protobuf message in a byte buffer, checking every length against the bytes that remain. Only what
/// <see cref="OnnxModelGraph"/> reads is decoded; other fields are skipped by their wire type.
/// </summary>
internal ref struct ProtobufScanner
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _path;
    private int _position;

    public ProtobufScanner(ReadOnlySpan<byte> buffer, string path)
    {
        _buffer = buffer;
        _path = path;
        _position = 0;
    }

    /// <summary>Field number of the current field.</summary>
    public int Field { get; private set; }

    /// <summary>Wire type of the current field: 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit.</summary>
    public int WireType { get; private set; }

    /// <summary>Payload of the current length-delimited field.</summary>
    public ReadOnlySpan<byte> Bytes { get; private set; }

    /// <summary>Value of the current varint field.</summary>
    public ulong Varint { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    /// <exception cref="InvalidDataException">A key, varint or length is malformed or runs past the end of the message.</exception>
    public bool Next()
    {
        if (_position == _buffer.Length)
            return false;
        ulong key = ReadVarint("a field key");
        Field = (int)Math.Min(key >> 3, int.MaxValue);
        WireType = (int)(key & 7);
        if (Field == 0)
            throw Corrupt("field number 0");
        Bytes = default;
        Varint = 0;
        switch (WireType)
        {
            case 0:
                Varint = ReadVarint($"field {Field}");
                break;
            case 1:
                Skip(8);
                break;
            case 2:
                ulong length = ReadVarint($"the length of field {Field}");
                if (length > (ulong)(_buffer.Length - _position))
                    throw Corrupt($"field {Field} announces {length} bytes but {_buffer.Length - _position} remain");
                Bytes = _buffer.Slice(_position, (int)length);
                _position += (int)length;
                break;
            case 5:
                Skip(4);
                break;
            default:
                throw Corrupt($"field {Field} has wire type {WireType}, which ONNX files do not use");
        }
        return true;
    }

    /// <summary>The current length-delimited field as UTF-8 text.</summary>
    public readonly string Text => System.Text.Encoding.UTF8.GetString(Bytes);

    private ulong ReadVarint(string what)
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _buffer.Length)
                throw Corrupt($"{what} runs past the end");
            byte b = _buffer[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw Corrupt($"{what} is a varint longer than 10 bytes");
    }

    private void Skip(int count)
    {
        if (_buffer.Length - _position < count)
            throw Corrupt($"field {Field} runs past the end");
        _position += count;
    }

    private readonly InvalidDataException Corrupt(string reason) =>
        new($"'{_path}' is not an ONNX model (or is truncated or corrupt): {reason} at byte {_position} of the message.");
}
