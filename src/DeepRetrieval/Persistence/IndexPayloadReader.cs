using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace DeepRetrieval.Persistence;

/// <summary>
/// Reads an index payload whose container has already been validated. Every read is bounded by the payload
/// length, and arrays are checked against the bytes left before they are allocated, so a corrupt count
/// fails with <see cref="InvalidDataException"/> instead of an out-of-memory crash. Nested parts go through
/// <see cref="ReadNested{T}"/>, which bounds their depth and number (<see cref="IndexFileFormat.MaxNestingDepth"/>,
/// <see cref="IndexFileFormat.MaxObjects"/>) so a hostile file cannot exhaust the stack.
/// </summary>
public sealed class IndexPayloadReader
{
    private readonly Stream _stream;
    private readonly string _kind;
    private readonly CancellationToken _cancellationToken;
    private int _objects = 1; // the outermost index

    internal IndexPayloadReader(Stream stream, long length, string kind, CancellationToken cancellationToken = default)
        : this(stream, IndexFileFormat.FormatVersion, length, kind, mapping: null, cancellationToken)
    {
    }

    internal IndexPayloadReader(Stream stream, uint version, long length, string kind, IndexMapping? mapping, CancellationToken cancellationToken = default)
    {
        _stream = stream;
        FormatVersion = version;
        Remaining = length;
        _kind = kind;
        Mapping = mapping;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The format version of the file being read (older versions lack the alignment padding of <see cref="ReadAlignedArray{T}"/>).</summary>
    public uint FormatVersion { get; }

    /// <summary>
    /// The read-only mapping of the file when it is opened with <c>IndexFile.Map</c>, or null when it is loaded. Kinds that
    /// map use <see cref="MapAligned{T}"/> for their large arrays and must not change them; the index they build must keep
    /// the mapping's lifetime (<c>VectorIndex.Mapping</c>).
    /// </summary>
    public IndexMapping? Mapping { get; }

    /// <summary>How many arrays <see cref="MapAligned{T}"/> has handed out so far: zero means the index read holds no pointer into the mapping.</summary>
    internal int MappedArrays { get; private set; }

    /// <summary>Payload bytes not yet read.</summary>
    public long Remaining { get; private set; }

    /// <summary>How deeply the part being read is nested: 0 for the outermost index (nesting level 1), 1 for its parts, and so on.</summary>
    public int Depth { get; private set; }

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
    public string ReadString() => ReadString("string", int.MaxValue);

    /// <summary>Reads a UTF-8 string of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="name">What the string is, for the error message.</param>
    /// <param name="maxBytes">The longest valid encoding.</param>
    public string ReadString(string name, int maxBytes)
    {
        int length = ReadInt32($"{name} length", 0, maxBytes);
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
        _cancellationToken.ThrowIfCancellationRequested();
        long size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (count < 0 || count > Array.MaxLength || count > Remaining / size)
            throw Corrupt($"{name} declares {count} elements of {size} bytes but only {Remaining} payload bytes remain");
        // Every element is overwritten (or the read throws), so the array need not be zeroed first.
        T[] values = GC.AllocateUninitializedArray<T>((int)count);
        ReadRaw(MemoryMarshal.AsBytes(values.AsSpan()), name);
        return values;
    }

    /// <summary>
    /// Reads an array written by <see cref="IndexPayloadWriter.WriteAligned{T}"/>: skips the zero padding up to the next
    /// <see cref="IndexFileFormat.ArrayAlignment"/>-byte offset (version 2 files on), then reads like <see cref="ReadArray{T}"/>.
    /// </summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="count">Number of elements.</param>
    /// <param name="name">What the array is, for the error message.</param>
    public T[] ReadAlignedArray<T>(long count, string name) where T : unmanaged
    {
        SkipPadding(name);
        return ReadArray<T>(count, name);
    }

    /// <summary>
    /// For a mapped file (<see cref="Mapping"/> not null): the array written by <see cref="IndexPayloadWriter.WriteAligned{T}"/>,
    /// in place, without copying: a pointer into the mapping, <see cref="IndexFileFormat.ArrayAlignment"/>-byte aligned,
    /// after checking that all <paramref name="count"/> elements lie inside the payload. Valid while the mapping is.
    /// </summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="count">Number of elements.</param>
    /// <param name="name">What the array is, for the error message.</param>
    /// <exception cref="InvalidOperationException">The file is not mapped.</exception>
    internal unsafe T* MapAligned<T>(long count, string name) where T : unmanaged
    {
        if (Mapping is null) throw new InvalidOperationException("Only a mapped file's arrays can be used in place; read them with ReadAlignedArray.");
        _cancellationToken.ThrowIfCancellationRequested();
        SkipPadding(name);
        long size = sizeof(T);
        if (count < 0 || count > Remaining / size)
            throw Corrupt($"{name} declares {count} elements of {size} bytes but only {Remaining} payload bytes remain");
        long position = _stream.Position;
        _stream.Position = position + count * size;
        Remaining -= count * size;
        MappedArrays++;
        return (T*)(Mapping.Pointer + position);
    }

    /// <summary>
    /// Reads a part written by <see cref="IndexPayloadWriter.WriteNested"/> (its kind, then its payload) one level deeper,
    /// checking the nesting depth and the number of parts first.
    /// </summary>
    /// <typeparam name="T">What the part becomes.</typeparam>
    /// <param name="name">What the part is (for example "coarse quantizer"), named in error messages.</param>
    /// <param name="read">Reads the payload of the given kind; throws <see cref="InvalidDataException"/> (see <see cref="Corrupt"/>) for a kind it does not know.</param>
    /// <exception cref="InvalidDataException">The file nests deeper than <see cref="IndexFileFormat.MaxNestingDepth"/> or holds more than <see cref="IndexFileFormat.MaxObjects"/> parts, or the part is corrupt.</exception>
    public T ReadNested<T>(string name, Func<string, IndexPayloadReader, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        // The outermost index is level 1 (Depth 0); this part would be level Depth + 2.
        if (Depth + 2 > IndexFileFormat.MaxNestingDepth)
            throw Corrupt($"the {name} would be nesting level {Depth + 2}; at most {IndexFileFormat.MaxNestingDepth} levels are allowed");
        if (++_objects > IndexFileFormat.MaxObjects)
            throw Corrupt($"it holds more than {IndexFileFormat.MaxObjects} nested parts");
        string kind = ReadString($"{name} kind", IndexFileFormat.MaxKindLength);
        Depth++;
        try
        {
            return read(kind, this);
        }
        finally
        {
            Depth--;
        }
    }

    /// <summary>An exception saying the payload is corrupt, naming the index kind.</summary>
    /// <param name="problem">What is wrong.</param>
    public InvalidDataException Corrupt(string problem) => new($"Corrupt {_kind} index file: {problem}.");

    private void SkipPadding(string name)
    {
        if (FormatVersion < IndexFileFormat.FirstAlignedVersion) return;
        Span<byte> zeros = stackalloc byte[IndexFileFormat.ArrayAlignment];
        ReadRaw(zeros[..1], $"the padding length before {name}");
        int padding = zeros[0];
        if (padding >= IndexFileFormat.ArrayAlignment) throw Corrupt($"the padding before {name} is {padding} bytes long");
        ReadRaw(zeros[..padding], $"the padding before {name}");
        if (zeros[..padding].ContainsAnyExcept((byte)0)) throw Corrupt($"the padding before {name} is not zero");
    }

    // Fills a caller's buffer (reused across blocks, so a large section is streamed without a new array per block).
    internal void ReadInto<T>(Span<T> destination, string name) where T : unmanaged
    {
        _cancellationToken.ThrowIfCancellationRequested();
        ReadRaw(MemoryMarshal.AsBytes(destination), name);
    }

    private void ReadRaw(Span<byte> buffer, string what)
    {
        if (buffer.Length > Remaining) throw Corrupt($"it ends while reading {what}");
        _stream.ReadExactly(buffer);
        Remaining -= buffer.Length;
    }
}
