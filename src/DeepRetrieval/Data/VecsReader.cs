using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Data;

/// <summary>
/// Reads the TEXMEX vector formats used by the SIFT1M / GIST1M / BIGANN benchmarks: every row is a little-endian
/// int32 dimension d followed by d values — float32 in <c>.fvecs</c>, int32 in <c>.ivecs</c> (typically ground-truth
/// ids), uint8 in <c>.bvecs</c>. Every row must have the dimension of the first. An empty input gives zero rows of
/// dimension zero.
/// </summary>
public static class VecsReader
{
    /// <summary>Largest dimension accepted; a larger value indicates a corrupt or misidentified file.</summary>
    public const int MaxDimension = 1 << 24;

    /// <summary>Reads a <c>.fvecs</c> file.</summary>
    /// <param name="path">File to read.</param>
    /// <param name="maxRows">Read at most this many rows from the start; null reads all.</param>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static VectorSet<float> ReadFvecs(string path, int? maxRows = null) => ReadFile<float>(path, maxRows, ".fvecs");

    /// <summary>Reads <c>.fvecs</c> rows from a stream, which is left open.</summary>
    /// <param name="stream">Source, positioned at the first row.</param>
    /// <param name="maxRows">Read at most this many rows; null reads to the end of the stream.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">The content is malformed.</exception>
    public static VectorSet<float> ReadFvecs(Stream stream, int? maxRows = null, string? sourceName = null) =>
        ReadStream<float>(stream, maxRows, sourceName, ".fvecs");

    /// <summary>Reads an <c>.ivecs</c> file.</summary>
    /// <param name="path">File to read.</param>
    /// <param name="maxRows">Read at most this many rows from the start; null reads all.</param>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static VectorSet<int> ReadIvecs(string path, int? maxRows = null) => ReadFile<int>(path, maxRows, ".ivecs");

    /// <summary>Reads <c>.ivecs</c> rows from a stream, which is left open.</summary>
    /// <param name="stream">Source, positioned at the first row.</param>
    /// <param name="maxRows">Read at most this many rows; null reads to the end of the stream.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">The content is malformed.</exception>
    public static VectorSet<int> ReadIvecs(Stream stream, int? maxRows = null, string? sourceName = null) =>
        ReadStream<int>(stream, maxRows, sourceName, ".ivecs");

    /// <summary>Reads a <c>.bvecs</c> file.</summary>
    /// <param name="path">File to read.</param>
    /// <param name="maxRows">Read at most this many rows from the start; null reads all.</param>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static VectorSet<byte> ReadBvecs(string path, int? maxRows = null) => ReadFile<byte>(path, maxRows, ".bvecs");

    /// <summary>Reads <c>.bvecs</c> rows from a stream, which is left open.</summary>
    /// <param name="stream">Source, positioned at the first row.</param>
    /// <param name="maxRows">Read at most this many rows; null reads to the end of the stream.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">The content is malformed.</exception>
    public static VectorSet<byte> ReadBvecs(Stream stream, int? maxRows = null, string? sourceName = null) =>
        ReadStream<byte>(stream, maxRows, sourceName, ".bvecs");

    private static VectorSet<T> ReadFile<T>(string path, int? maxRows, string format) where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        DataStreams.RequireNonNegative(maxRows, nameof(maxRows));
        using FileStream file = DataStreams.OpenRead(path);
        return Read<T>(file, maxRows, path, format);
    }

    private static VectorSet<T> ReadStream<T>(Stream stream, int? maxRows, string? name, string format) where T : unmanaged
    {
        DataStreams.RequireReadable(stream, nameof(stream));
        DataStreams.RequireNonNegative(maxRows, nameof(maxRows));
        return Read<T>(stream, maxRows, name, format);
    }

    private static VectorSet<T> Read<T>(Stream stream, int? maxRows, string? name, string format) where T : unmanaged
    {
        int limit = maxRows ?? int.MaxValue;
        long? remaining = DataStreams.Remaining(stream);
        if (limit == 0 || remaining == 0)
            return new VectorSet<T>(0, 0, []);

        Span<byte> word = stackalloc byte[4];
        int got = DataStreams.ReadUpTo(stream, word, name);
        if (got == 0)
            return new VectorSet<T>(0, 0, []);
        if (got < 4)
            throw DataStreams.Invalid(name, $"truncated {format} row 0: expected a 4-byte dimension, got {got} bytes");
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(word);
        if (dimension <= 0 || dimension > MaxDimension)
            throw DataStreams.Invalid(name,
                $"absurd dimension {dimension} in {format} row 0 (expected 1..{MaxDimension}); this is probably not a {format} file");

        int size = Unsafe.SizeOf<T>();
        long rowBytes = 4 + (long)dimension * size;
        if (remaining is long known)
            return ReadKnownLength<T>(stream, known, dimension, rowBytes, limit, name, format);
        return ReadUnknownLength<T>(stream, dimension, rowBytes, limit, name, format);
    }

    private static VectorSet<T> ReadKnownLength<T>(
        Stream stream, long remaining, int dimension, long rowBytes, int limit, string? name, string format)
        where T : unmanaged
    {
        if (remaining < rowBytes)
            throw DataStreams.Invalid(name, $"truncated {format} row 0: expected {rowBytes} bytes, got {remaining} (dimension {dimension})");
        long wholeRows = remaining / rowBytes;
        long rows = Math.Min(wholeRows, limit);
        if (rows * dimension > Array.MaxLength)
            throw DataStreams.Invalid(name,
                $"{rows} rows of dimension {dimension} are more values than one array can hold; pass maxRows to read fewer");

        var data = new T[rows * dimension];
        for (int i = 0; i < rows; i++)
        {
            if (i > 0)
                ReadRowDimension(stream, i, dimension, rowBytes, name, format);
            ReadRowValues(stream, data.AsSpan(i * dimension, dimension), i, rowBytes, name, format);
        }

        long leftover = remaining - rows * rowBytes;
        if (rows == wholeRows && leftover > 0)
        {
            // The rows so far were consistent, so whatever follows is either a row of another dimension or a cut-off row.
            ReadRowDimension(stream, (int)rows, dimension, rowBytes, name, format);
            throw DataStreams.Invalid(name, $"truncated {format} row {rows}: expected {rowBytes} bytes, got {leftover}");
        }
        return new VectorSet<T>((int)rows, dimension, data);
    }

    private static VectorSet<T> ReadUnknownLength<T>(
        Stream stream, int dimension, long rowBytes, int limit, string? name, string format)
        where T : unmanaged
    {
        // Without a length the row count is unknown, so the buffer doubles as rows arrive.
        long maxRowsInArray = Array.MaxLength / dimension;
        long initialRows = Math.Min(limit, Math.Max(1, Math.Min(1024, (1 << 20) / dimension)));
        var data = new T[(int)Math.Min(initialRows * dimension, maxRowsInArray * dimension)];
        int rows = 0;
        Span<byte> word = stackalloc byte[4];
        while (rows < limit)
        {
            if (rows > 0)
            {
                int got = DataStreams.ReadUpTo(stream, word, name);
                if (got == 0)
                    break;
                if (got < 4)
                    throw DataStreams.Invalid(name, $"truncated {format} row {rows}: expected {rowBytes} bytes, got {got}");
                int d = BinaryPrimitives.ReadInt32LittleEndian(word);
                if (d != dimension)
                    throw InconsistentDimension(name, format, rows, d, dimension);
            }
            if (rows >= maxRowsInArray)
                throw DataStreams.Invalid(name,
                    $"more than {maxRowsInArray} rows of dimension {dimension}, more values than one array can hold; pass maxRows to read fewer");
            long needed = (long)(rows + 1) * dimension;
            if (needed > data.Length)
                Array.Resize(ref data, (int)Math.Min(Math.Max(needed, data.Length * 2L), maxRowsInArray * dimension));
            ReadRowValues(stream, data.AsSpan(rows * dimension, dimension), rows, rowBytes, name, format);
            rows++;
        }

        if (data.Length != (long)rows * dimension)
            Array.Resize(ref data, rows * dimension);
        return new VectorSet<T>(rows, dimension, data);
    }

    private static void ReadRowDimension(Stream stream, int row, int dimension, long rowBytes, string? name, string format)
    {
        Span<byte> word = stackalloc byte[4];
        int got = DataStreams.ReadUpTo(stream, word, name);
        if (got < 4)
            throw DataStreams.Invalid(name, $"truncated {format} row {row}: expected {rowBytes} bytes, got {got}");
        int d = BinaryPrimitives.ReadInt32LittleEndian(word);
        if (d != dimension)
            throw InconsistentDimension(name, format, row, d, dimension);
    }

    private static void ReadRowValues<T>(Stream stream, Span<T> row, int index, long rowBytes, string? name, string format)
        where T : unmanaged
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(row);
        int got = DataStreams.ReadUpTo(stream, bytes, name);
        if (got < bytes.Length)
            throw DataStreams.Invalid(name, $"truncated {format} row {index}: expected {rowBytes} bytes, got {4 + got}");
        DataStreams.FromLittleEndian(row);
    }

    private static InvalidDataException InconsistentDimension(string? name, string format, int row, int found, int expected) =>
        DataStreams.Invalid(name, $"inconsistent dimension in {format} row {row}: {found}, but row 0 has {expected}");
}
