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

    /// <summary>
    /// Writes a large array (vectors, codes, links, list contents) at the next multiple of
    /// <see cref="IndexFileFormat.ArrayAlignment"/> bytes from the file's start, so a mapped file can use it in place: one
    /// byte giving the padding's length, that many zero bytes, then the values. Read it back with <see cref="IndexPayloadReader.ReadAlignedArray{T}"/> or <see cref="IndexPayloadReader.MapAligned{T}"/>.
    /// </summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="values">The values (write the count first).</param>
    public void WriteAligned<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        const int alignment = IndexFileFormat.ArrayAlignment;
        int padding = (int)((alignment - (BytesWritten + 1) % alignment) % alignment);
        Span<byte> prefix = stackalloc byte[1 + alignment];
        prefix.Clear();
        prefix[0] = (byte)padding;
        WriteRaw(prefix[..(1 + padding)]);
        WriteSpan(values);
    }

    /// <summary>Nests a part (an index or a transform) inside this payload: its kind, then what <paramref name="writePayload"/> writes. Read it back with <see cref="IndexPayloadReader.ReadNested{T}"/>.</summary>
    /// <param name="kind">The part's kind name (ASCII, 1 to <see cref="IndexFileFormat.MaxKindLength"/> characters).</param>
    /// <param name="writePayload">Writes the part's parameters and data.</param>
    public void WriteNested(string kind, Action<IndexPayloadWriter> writePayload)
    {
        ArgumentNullException.ThrowIfNull(writePayload);
        IndexFileFormat.CheckKind(kind);
        WriteString(kind);
        writePayload(this);
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
