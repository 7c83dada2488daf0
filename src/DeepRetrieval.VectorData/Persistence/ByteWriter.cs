using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>A growable little-endian byte buffer for log entries, snapshot frames and the manifest.</summary>
internal sealed class ByteWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public void Clear() => _buffer.ResetWrittenCount();

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    public void WriteInt16(short value) => Put(value, 2, BinaryPrimitives.WriteInt16LittleEndian);

    public void WriteInt32(int value) => Put(value, 4, BinaryPrimitives.WriteInt32LittleEndian);

    public void WriteUInt32(uint value) => Put(value, 4, BinaryPrimitives.WriteUInt32LittleEndian);

    public void WriteInt64(long value) => Put(value, 8, BinaryPrimitives.WriteInt64LittleEndian);

    public void WriteUInt64(ulong value) => Put(value, 8, BinaryPrimitives.WriteUInt64LittleEndian);

    public void WriteSingle(float value) => Put(value, 4, BinaryPrimitives.WriteSingleLittleEndian);

    public void WriteDouble(double value) => Put(value, 8, BinaryPrimitives.WriteDoubleLittleEndian);

    /// <summary>A count or length, 7 bits per byte.</summary>
    public void WriteCount(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        uint v = (uint)value;
        while (v >= 0x80)
        {
            WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        WriteByte((byte)v);
    }

    public void WriteString(string value)
    {
        int bytes = Encoding.UTF8.GetByteCount(value);
        WriteCount(bytes);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(bytes));
        _buffer.Advance(bytes);
    }

    public void WriteFloats(ReadOnlySpan<float> values)
    {
        WriteCount(values.Length);
        Span<byte> span = _buffer.GetSpan(values.Length * sizeof(float));
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], values[i]);
        _buffer.Advance(values.Length * sizeof(float));
    }

    private void Put<T>(T value, int size, SpanAction<byte, T> write)
    {
        write(_buffer.GetSpan(size), value);
        _buffer.Advance(size);
    }

    private delegate void SpanAction<TSpan, in TValue>(Span<TSpan> span, TValue value);
}
