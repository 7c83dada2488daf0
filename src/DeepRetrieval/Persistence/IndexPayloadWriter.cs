using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace DeepRetrieval.Persistence;

/// <summary>Writes an index payload in little-endian form, hashing every byte for the file's checksum.</summary>
public sealed class IndexPayloadWriter
{
    private readonly Stream _stream;
    private readonly XxHash64 _hash = new();

    internal IndexPayloadWriter(Stream stream) => _stream = stream;

    /// <summary>Bytes written so far, header included.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Writes a 32-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt32(int value)
    {
        Span<byte> buffer = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, value);
        WriteRaw(buffer);
    }

    /// <summary>Writes an unsigned 32-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteUInt32(uint value)
    {
        Span<byte> buffer = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        WriteRaw(buffer);
    }

    /// <summary>Writes a 64-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt64(long value)
    {
        Span<byte> buffer = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        WriteRaw(buffer);
    }

    /// <summary>Writes a 32-bit float.</summary>
    /// <param name="value">The value.</param>
    public void WriteSingle(float value) => WriteInt32(BitConverter.SingleToInt32Bits(value));

    /// <summary>Writes a 64-bit float.</summary>
    /// <param name="value">The value.</param>
    public void WriteDouble(double value) => WriteInt64(BitConverter.DoubleToInt64Bits(value));

    /// <summary>Writes a UTF-8 string with a 32-bit length prefix.</summary>
    /// <param name="value">The value.</param>
    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        WriteInt32(bytes.Length);
        WriteRaw(bytes);
    }

    /// <summary>Writes a block of unmanaged values as raw little-endian bytes (no length prefix; write the count first).</summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="values">The values.</param>
    public void WriteSpan<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Index files are little-endian; big-endian hosts are not supported.");
        WriteRaw(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Nests another index (its kind, then its payload) inside this payload; composite indexes use it for their parts.</summary>
    /// <param name="index">An index of this library (derived from <see cref="Indexes.VectorIndex"/>).</param>
    /// <exception cref="ArgumentException">The index is not one of this library's.</exception>
    public void WriteIndex(Indexes.IVectorIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index is not Indexes.VectorIndex own)
            throw new ArgumentException($"Only indexes derived from VectorIndex can be nested in an index file; got {index.GetType().Name}.", nameof(index));
        WriteString(own.Kind);
        own.WritePayloadTo(this);
    }

    internal void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        _hash.Append(bytes);
        _stream.Write(bytes);
        BytesWritten += bytes.Length;
    }

    internal void WriteChecksum()
    {
        Span<byte> buffer = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, _hash.GetCurrentHashAsUInt64());
        _stream.Write(buffer);
        BytesWritten += buffer.Length;
    }
}
