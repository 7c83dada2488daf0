using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Data;

/// <summary>
/// Plumbing shared by the dataset readers and writers: opening files, sniffing gzip, exact reads that
/// turn short input into <see cref="InvalidDataException"/>s naming the source, and atomic file writes.
/// </summary>
internal static class DataStreams
{
    internal const int FileBufferSize = 1 << 16;

    // A header that claims more data than the stream can hold must not make us allocate it all up front,
    // so buffers of unknown-length sources grow from this size as data actually arrives.
    private const int InitialGrowBytes = 1 << 24;

    // AsBytes over a span of more than int.MaxValue bytes overflows, so large typed reads go in chunks.
    private const int ChunkBytes = 1 << 28;

    internal static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferSize, FileOptions.SequentialScan);
    }

    internal static void RequireReadable(Stream stream, string paramName)
    {
        ArgumentNullException.ThrowIfNull(stream, paramName);
        if (!stream.CanRead)
            throw new ArgumentException("The stream must be readable.", paramName);
    }

    internal static void RequireWritable(Stream stream, string paramName)
    {
        ArgumentNullException.ThrowIfNull(stream, paramName);
        if (!stream.CanWrite)
            throw new ArgumentException("The stream must be writable.", paramName);
    }

    internal static void RequireNonNegative(int? value, string paramName)
    {
        if (value is < 0)
            throw new ArgumentOutOfRangeException(paramName, value, "Must be null (no limit) or non-negative.");
    }

    internal static string Describe(string? name) => name is null ? "stream" : $"'{name}'";

    internal static InvalidDataException Invalid(string? name, string problem, Exception? inner = null) =>
        new($"{Describe(name)}: {problem}.", inner);

    /// <summary>Bytes left in a seekable stream, or null when that cannot be known without reading.</summary>
    internal static long? Remaining(Stream stream)
    {
        if (!stream.CanSeek)
            return null;
        try
        {
            return Math.Max(0, stream.Length - stream.Position);
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Returns a stream over the content of <paramref name="stream"/>, decompressed when it starts with the gzip
    /// magic 1F 8B. The result is <paramref name="stream"/> itself when nothing needs wrapping; otherwise the
    /// caller disposes the result, which leaves <paramref name="stream"/> open.
    /// </summary>
    internal static Stream OpenMaybeGzip(Stream stream, string? name, out bool compressed)
    {
        Span<byte> magic = stackalloc byte[2];
        int got = ReadUpTo(stream, magic, name);
        compressed = got == 2 && magic[0] == 0x1F && magic[1] == 0x8B;

        Stream source;
        if (stream.CanSeek)
        {
            stream.Seek(-got, SeekOrigin.Current);
            source = stream;
        }
        else
        {
            // A forward-only stream cannot give the sniffed bytes back, so they are replayed in front of it.
            source = new PrefixedReadStream(magic[..got].ToArray(), stream);
        }

        return compressed ? new GZipStream(source, CompressionMode.Decompress, leaveOpen: true) : source;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the input ends; returns the bytes read.</summary>
    internal static int ReadUpTo(Stream stream, Span<byte> buffer, string? name)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException ex)
        {
            // GZipStream reports corruption without saying which file it was reading.
            throw Invalid(name, $"corrupt compressed data ({ex.Message})", ex);
        }
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes or throws naming <paramref name="what"/>.</summary>
    internal static void ReadExact(Stream stream, Span<byte> buffer, string? name, string what)
    {
        int got = ReadUpTo(stream, buffer, name);
        if (got < buffer.Length)
            throw Invalid(name, $"truncated {what}: expected {buffer.Length} bytes, got {got}");
    }

    /// <summary>True when at least one more byte can be read (consumes it).</summary>
    internal static bool HasMoreData(Stream stream, string? name)
    {
        Span<byte> one = stackalloc byte[1];
        return ReadUpTo(stream, one, name) == 1;
    }

    /// <summary>
    /// Reads <paramref name="count"/> elements of <typeparamref name="T"/> in the file's byte order (no swapping).
    /// When the source length is known the check happens before allocation; otherwise the buffer grows only as
    /// data arrives, so a lying header costs at most 16 MiB or about twice the bytes actually present.
    /// </summary>
    internal static T[] ReadArray<T>(Stream stream, long count, long? remainingBytes, string? name, string what)
        where T : unmanaged
    {
        if (count > Array.MaxLength)
            throw Invalid(name, $"{what} declares {count} elements, more than one array can hold ({Array.MaxLength})");
        int size = Unsafe.SizeOf<T>();
        long expectedBytes = count * size;
        if (remainingBytes is long known && known < expectedBytes)
            throw Invalid(name, $"truncated {what}: expected {expectedBytes} bytes, got {known}");

        if (remainingBytes is not null || expectedBytes <= InitialGrowBytes)
        {
            var exact = new T[count];
            long got = ReadInto(stream, exact, name);
            if (got < expectedBytes)
                throw Invalid(name, $"truncated {what}: expected {expectedBytes} bytes, got {got}");
            return exact;
        }

        var buffer = new T[InitialGrowBytes / size];
        long filled = 0;
        while (true)
        {
            long gotBytes = ReadInto(stream, buffer.AsSpan((int)filled), name);
            filled += gotBytes / size;
            if (filled == count)
                return buffer;
            if (filled < buffer.Length)
                throw Invalid(name, $"truncated {what}: expected {expectedBytes} bytes, got {filled * size + gotBytes % size}");
            Array.Resize(ref buffer, (int)Math.Min(count, Math.Min((long)buffer.Length * 2, Array.MaxLength)));
        }
    }

    /// <summary>Fills <paramref name="destination"/> as far as the input allows; returns the bytes read.</summary>
    internal static long ReadInto<T>(Stream stream, Span<T> destination, string? name) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        int chunkElements = ChunkBytes / size;
        long total = 0;
        while (!destination.IsEmpty)
        {
            Span<T> chunk = destination[..Math.Min(destination.Length, chunkElements)];
            Span<byte> bytes = MemoryMarshal.AsBytes(chunk);
            int got = ReadUpTo(stream, bytes, name);
            total += got;
            if (got < bytes.Length)
                break;
            destination = destination[chunk.Length..];
        }
        return total;
    }

    /// <summary>Converts 4-byte little-endian values in place to the host's order (a no-op on little-endian hosts).</summary>
    internal static void FromLittleEndian<T>(Span<T> values) where T : unmanaged
    {
        if (BitConverter.IsLittleEndian || Unsafe.SizeOf<T>() == 1)
            return;
        Span<int> words = MemoryMarshal.Cast<T, int>(values);
        BinaryPrimitives.ReverseEndianness(words, words);
    }

    /// <summary>Writes 1- or 4-byte values in little-endian order whatever the host's order.</summary>
    internal static void WriteLittleEndian<T>(Stream stream, ReadOnlySpan<T> values) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        int chunkElements = ChunkBytes / size;
        if (BitConverter.IsLittleEndian || size == 1)
        {
            while (!values.IsEmpty)
            {
                ReadOnlySpan<T> chunk = values[..Math.Min(values.Length, chunkElements)];
                stream.Write(MemoryMarshal.AsBytes(chunk));
                values = values[chunk.Length..];
            }
            return;
        }

        ReadOnlySpan<int> words = MemoryMarshal.Cast<T, int>(values);
        int[] rented = ArrayPool<int>.Shared.Rent(Math.Min(words.Length, 1 << 16));
        try
        {
            while (!words.IsEmpty)
            {
                int n = Math.Min(words.Length, rented.Length);
                BinaryPrimitives.ReverseEndianness(words[..n], rented.AsSpan(0, n));
                stream.Write(MemoryMarshal.AsBytes(rented.AsSpan(0, n)));
                words = words[n..];
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>True when <paramref name="path"/> names a gzip file by its extension.</summary>
    internal static bool HasGzipExtension(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
}
