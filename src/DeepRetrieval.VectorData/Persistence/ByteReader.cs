using System.Buffers.Binary;
using System.Text;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// Reads what <see cref="ByteWriter"/> wrote, treating the bytes as hostile: every read checks the bytes left, and every
/// declared count is checked against them before anything is allocated. Problems throw <see cref="InvalidDataException"/>.
/// </summary>
internal ref struct ByteReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly string _what;
    private int _position;

    public ByteReader(ReadOnlySpan<byte> bytes, string what)
    {
        _bytes = bytes;
        _what = what;
        _position = 0;
    }

    public readonly int Remaining => _bytes.Length - _position;

    public byte ReadByte() => Take(1)[0];

    public ReadOnlySpan<byte> ReadBytes(int count) => Take(count);

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>A count written by <see cref="ByteWriter.WriteCount"/>, checked to fit the bytes left at <paramref name="minimumBytesEach"/> each.</summary>
    public int ReadCount(int minimumBytesEach)
    {
        uint value = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 28) throw Corrupt("a count is longer than five bytes");
            byte b = ReadByte();
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) break;
        }
        if (value > int.MaxValue || (long)value * minimumBytesEach > Remaining)
            throw Corrupt($"a count of {value} does not fit the {Remaining} bytes left");
        return (int)value;
    }

    public string ReadString()
    {
        int length = ReadCount(1);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"Corrupt {_what}: a string is not valid UTF-8.", e);
        }
    }

    public float[] ReadFloats()
    {
        int count = ReadCount(sizeof(float));
        var values = new float[count];
        ReadOnlySpan<byte> span = Take(count * sizeof(float));
        for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..]);
        return values;
    }

    public readonly InvalidDataException Corrupt(string problem) => new($"Corrupt {_what}: {problem} (at byte {_position}).");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining) throw Corrupt($"it ends early ({count} bytes needed, {Remaining} left)");
        ReadOnlySpan<byte> span = _bytes.Slice(_position, count);
        _position += count;
        return span;
    }
}
