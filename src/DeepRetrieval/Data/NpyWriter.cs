using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace DeepRetrieval.Data;

/// <summary>
/// Writes float32 arrays as NumPy <c>.npy</c> files (format 1.0, C order, dtype <c>&lt;f4</c>) that
/// <c>numpy.load</c> and <see cref="NpyReader"/> read. File overloads write atomically (through a temporary file
/// renamed into place).
/// </summary>
public static class NpyWriter
{
    // NumPy pads the header so the data starts on a 64-byte boundary, which allows aligned memory-mapping.
    private const int Alignment = 64;

    /// <summary>Writes a rows × columns matrix to an <c>.npy</c> file.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="data">rows × columns values, row-major.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Values per row.</param>
    public static void Write(string path, ReadOnlySpan<float> data, int rows, int columns)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckShape(data.Length, rows, columns);
        using var file = new AtomicFile(path);
        WriteCore(file.Stream, data, $"({rows}, {columns})");
        file.Commit();
    }

    /// <summary>Writes vectors to an <c>.npy</c> file as a Count × Dimension matrix.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void Write(string path, VectorSet<float> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        Write(path, vectors.Data, vectors.Count, vectors.Dimension);
    }

    /// <summary>Writes a rows × columns matrix in <c>.npy</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="data">rows × columns values, row-major.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Values per row.</param>
    public static void Write(Stream stream, ReadOnlySpan<float> data, int rows, int columns)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        CheckShape(data.Length, rows, columns);
        WriteCore(stream, data, $"({rows}, {columns})");
    }

    /// <summary>Writes vectors in <c>.npy</c> format to a stream as a Count × Dimension matrix; the stream is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void Write(Stream stream, VectorSet<float> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        Write(stream, vectors.Data, vectors.Count, vectors.Dimension);
    }

    /// <summary>Writes a 1-D array, shape (n,), to an <c>.npy</c> file.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="data">The values.</param>
    public static void WriteVector(string path, ReadOnlySpan<float> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new AtomicFile(path);
        WriteCore(file.Stream, data, $"({data.Length},)");
        file.Commit();
    }

    /// <summary>Writes a 1-D array, shape (n,), in <c>.npy</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="data">The values.</param>
    public static void WriteVector(Stream stream, ReadOnlySpan<float> data)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        WriteCore(stream, data, $"({data.Length},)");
    }

    private static void CheckShape(int length, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if ((long)rows * columns != length)
            throw new ArgumentException($"data must hold rows × columns = {rows} × {columns} values; got {length}.", "data");
    }

    private static void WriteCore(Stream stream, ReadOnlySpan<float> data, string shape)
    {
        string dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
        const int preamble = 10;
        int unpadded = preamble + dict.Length + 1; // + the terminating newline
        int padded = (unpadded + Alignment - 1) / Alignment * Alignment;
        string header = dict + new string(' ', padded - unpadded) + "\n";

        Span<byte> prefix = stackalloc byte[preamble];
        prefix[0] = 0x93;
        "NUMPY"u8.CopyTo(prefix[1..]);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.Latin1.GetBytes(header));
        DataStreams.WriteLittleEndian(stream, data);
    }
}
