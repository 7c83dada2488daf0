using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace DeepRetrieval.Persistence;

/// <summary>
/// Reads an index payload whose container has already been validated. Every read is bounded by the payload
/// length, and arrays are checked against the bytes left before they are allocated, so a corrupt count
/// fails with <see cref="InvalidDataException"/> instead of an out-of-memory crash.
/// </summary>
public sealed class IndexPayloadReader
{
    private readonly Stream _stream;
    private readonly string _kind;

    internal IndexPayloadReader(Stream stream, long length, string kind)
    {
        _stream = stream;
        Remaining = length;
        _kind = kind;
    }

    /// <summary>Payload bytes not yet read.</summary>
    public long Remaining { get; private set; }

    /// <summary>Reads a 32-bit integer.</summary>
    public int ReadInt32()
    {
        Span<byte> buffer = stackalloc byte[sizeof(int)];
        ReadRaw(buffer, "an int32");
        return BinaryPrimitives.ReadInt32LittleEndian(buffer);
    }

    /// <summary>Reads a 32-bit integer and checks it lies in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="name">What the value is, for the error message.</param>
    /// <param name="min">Smallest valid value.</param>
    /// <param name="max">Largest valid value.</param>
    public int ReadInt32(string name, int min, int max)
    {
        int value = ReadInt32();
        if (value < min || value > max)
            throw Corrupt($"{name} = {value} is outside [{min}, {max}]");
        return value;
    }

    /// <summary>Reads a 64-bit integer.</summary>
    public long ReadInt64()
    {
        Span<byte> buffer = stackalloc byte[sizeof(long)];
        ReadRaw(buffer, "an int64");
        return BinaryPrimitives.ReadInt64LittleEndian(buffer);
    }

    /// <summary>Reads a 64-bit integer and checks it lies in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="name">What the value is, for the error message.</param>
    /// <param name="min">Smallest valid value.</param>
    /// <param name="max">Largest valid value.</param>
    public long ReadInt64(string name, long min, long max)
    {
        long value = ReadInt64();
        if (value < min || value > max)
            throw Corrupt($"{name} = {value} is outside [{min}, {max}]");
        return value;
    }

    /// <summary>Reads a 32-bit float.</summary>
    public float ReadSingle() => BitConverter.Int32BitsToSingle(ReadInt32());

    /// <summary>Reads a 64-bit float.</summary>
    public double ReadDouble() => BitConverter.Int64BitsToDouble(ReadInt64());

    /// <summary>Reads a UTF-8 string written by <see cref="IndexPayloadWriter.WriteString"/>.</summary>
    public string ReadString()
    {
        int length = ReadInt32("string length", 0, int.MaxValue);
        if (length > Remaining) throw Corrupt($"a {length}-byte string is declared but only {Remaining} bytes remain");
        var bytes = new byte[length];
        ReadRaw(bytes, "a string");
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Reads <paramref name="count"/> unmanaged values into a new array, after checking they fit in the payload.</summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="count">Number of elements.</param>
    /// <param name="name">What the array is, for the error message.</param>
    public T[] ReadArray<T>(long count, string name) where T : unmanaged
    {
        long size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (count < 0 || count > Array.MaxLength || count > Remaining / size)
            throw Corrupt($"{name} declares {count} elements of {size} bytes but only {Remaining} payload bytes remain");
        var values = new T[count];
        ReadRaw(MemoryMarshal.AsBytes(values.AsSpan()), name);
        return values;
    }

    /// <summary>Reads an index nested by <see cref="IndexPayloadWriter.WriteIndex"/>, validating it like a top-level one.</summary>
    /// <param name="name">What the nested index is (for example "coarse quantizer"), named in error messages.</param>
    /// <exception cref="InvalidDataException">The kind is unknown or the nested payload is corrupt.</exception>
    public Indexes.IVectorIndex ReadIndex(string name)
    {
        string kind = ReadString();
        var loader = IndexFile.FindLoader(kind)
            ?? throw Corrupt($"the {name} has unknown index kind \"{kind}\"");
        return loader(this);
    }

    /// <summary>An exception saying the payload is corrupt, naming the index kind.</summary>
    /// <param name="problem">What is wrong.</param>
    public InvalidDataException Corrupt(string problem) => new($"Corrupt {_kind} index file: {problem}.");

    private void ReadRaw(Span<byte> buffer, string what)
    {
        if (buffer.Length > Remaining) throw Corrupt($"it ends while reading {what}");
        _stream.ReadExactly(buffer);
        Remaining -= buffer.Length;
    }
}
