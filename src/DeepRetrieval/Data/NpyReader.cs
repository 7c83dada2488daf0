using System.Buffers.Binary;
using System.Text;

namespace DeepRetrieval.Data;

/// <summary>
/// Reads NumPy <c>.npy</c> files holding float32 arrays in C order with shape (n,) or (n, d), as written by
/// <c>numpy.save</c> for a <c>float32</c> array (format versions 1.0, 2.0 and 3.0). Other dtypes, Fortran order
/// and other ranks are rejected with an explanation rather than converted.
/// </summary>
public static class NpyReader
{
    /// <summary>Largest header accepted, in bytes; a float32 matrix needs well under 1 KiB.</summary>
    public const int MaxHeaderLength = 1 << 16;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a float32 <c>.npy</c> file.</summary>
    /// <param name="path">File to read.</param>
    /// <param name="maxRows">Read at most this many rows (first-axis entries) from the start; null reads all.</param>
    /// <exception cref="InvalidDataException">The file is malformed or holds an unsupported array.</exception>
    public static NpyArray Read(string path, int? maxRows = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        DataStreams.RequireNonNegative(maxRows, nameof(maxRows));
        using FileStream file = DataStreams.OpenRead(path);
        return ReadCore(file, maxRows, path);
    }

    /// <summary>
    /// Reads a float32 array in <c>.npy</c> format from a stream, which is left open just after the array when all
    /// rows are read (so several arrays saved one after another into one stream can be read in turn).
    /// </summary>
    /// <param name="stream">Source, positioned at the <c>\x93NUMPY</c> magic.</param>
    /// <param name="maxRows">Read at most this many rows from the start; null reads all.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">The content is malformed or holds an unsupported array.</exception>
    public static NpyArray Read(Stream stream, int? maxRows = null, string? sourceName = null)
    {
        DataStreams.RequireReadable(stream, nameof(stream));
        DataStreams.RequireNonNegative(maxRows, nameof(maxRows));
        return ReadCore(stream, maxRows, sourceName);
    }

    private static NpyArray ReadCore(Stream stream, int? maxRows, string? name)
    {
        long? remaining = DataStreams.Remaining(stream);
        Span<byte> prefix = stackalloc byte[12];
        DataStreams.ReadExact(stream, prefix[..8], name, ".npy preamble");
        if (!prefix[..6].SequenceEqual(Magic))
            throw DataStreams.Invalid(name, $"bad magic {Convert.ToHexString(prefix[..6])}, expected 934E554D5059 (\\x93NUMPY); this is not an .npy file");

        byte major = prefix[6], minor = prefix[7];
        int lengthBytes = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw DataStreams.Invalid(name, $"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"),
        };
        DataStreams.ReadExact(stream, prefix.Slice(8, lengthBytes), name, ".npy header length");
        long headerLength = lengthBytes == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        long preambleLength = 8 + lengthBytes;
        if (headerLength > MaxHeaderLength)
            throw DataStreams.Invalid(name, $"absurd .npy header length {headerLength} (limit {MaxHeaderLength})");
        if (remaining is long total && total - preambleLength < headerLength)
            throw DataStreams.Invalid(name, $"truncated .npy header: expected {headerLength} bytes, got {total - preambleLength}");

        var headerBytes = new byte[headerLength];
        DataStreams.ReadExact(stream, headerBytes, name, ".npy header");
        // Versions 1 and 2 encode the header in latin-1; version 3 allows UTF-8 (e.g. for structured field names).
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        (long[] shape, long elements) = ParseHeader(header, name);

        long rows = shape[0];
        long columns = shape.Length == 2 ? shape[1] : 1;
        long payload = elements * sizeof(float);
        long? payloadAvailable = remaining - preambleLength - headerLength;
        if (payloadAvailable is long available && available < payload)
            throw DataStreams.Invalid(name,
                $"truncated .npy data: shape {FormatShape(shape)} needs {payload} bytes, got {available}");

        long take = Math.Min(rows, maxRows ?? long.MaxValue);
        long count = take * columns;
        if (count > Array.MaxLength)
            throw DataStreams.Invalid(name,
                $"{take} rows of {columns} values are more than one array can hold; pass maxRows to read fewer");
        float[] data = DataStreams.ReadArray<float>(stream, count, payloadAvailable, name, ".npy data");
        DataStreams.FromLittleEndian(data.AsSpan());

        int[] resultShape = shape.Length == 2 ? [(int)take, (int)columns] : [(int)take];
        return new NpyArray(resultShape, data);
    }

    private static (long[] Shape, long Elements) ParseHeader(string header, string? name)
    {
        Dictionary<string, object?> dict;
        try
        {
            dict = PythonLiteral.ParseDictionary(header);
        }
        catch (FormatException ex)
        {
            throw DataStreams.Invalid(name, $"malformed .npy header {Quote(header)}: {ex.Message}", ex);
        }

        if (!dict.TryGetValue("descr", out object? descr))
            throw DataStreams.Invalid(name, $"the .npy header has no 'descr' key: {Quote(header)}");
        if (descr is not string dtype)
            throw DataStreams.Invalid(name, "structured dtypes are not supported: expected 'descr': '<f4' (little-endian float32)");
        if (dtype != "<f4")
            throw DataStreams.Invalid(name,
                $"dtype '{dtype}' is not supported: expected '<f4' (little-endian float32); convert with array.astype(numpy.float32)");

        if (!dict.TryGetValue("fortran_order", out object? fortran))
            throw DataStreams.Invalid(name, $"the .npy header has no 'fortran_order' key: {Quote(header)}");
        if (fortran is not bool isFortran)
            throw DataStreams.Invalid(name, $"'fortran_order' must be True or False, got {Quote(header)}");
        if (isFortran)
            throw DataStreams.Invalid(name,
                "fortran_order True (column-major) is not supported: save a C-order array (numpy.ascontiguousarray)");

        if (!dict.TryGetValue("shape", out object? shapeValue))
            throw DataStreams.Invalid(name, $"the .npy header has no 'shape' key: {Quote(header)}");
        if (shapeValue is not List<object?> items || items.Exists(item => item is not long))
            throw DataStreams.Invalid(name, $"'shape' must be a tuple of integers: {Quote(header)}");
        long[] shape = items.Select(item => (long)item!).ToArray();
        if (shape.Length is not (1 or 2))
            throw DataStreams.Invalid(name, $"shape {FormatShape(shape)} has {shape.Length} dimensions: expected (n,) or (n, d)");

        long elements = 1;
        foreach (long size in shape)
        {
            if (size < 0 || size > int.MaxValue)
                throw DataStreams.Invalid(name, $"absurd size {size} in shape {FormatShape(shape)}");
            elements *= size; // two factors below 2^31 cannot overflow a long
        }
        if (elements > long.MaxValue / sizeof(float))
            throw DataStreams.Invalid(name, $"absurd shape {FormatShape(shape)}: {elements} values");
        return (shape, elements);
    }

    private static string FormatShape(long[] shape) =>
        shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    private static string Quote(string header)
    {
        string trimmed = header.TrimEnd();
        return trimmed.Length <= 200 ? $"\"{trimmed}\"" : $"\"{trimmed[..200]}…\"";
    }
}
