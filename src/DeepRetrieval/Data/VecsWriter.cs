using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Data;

/// <summary>
/// Writes the TEXMEX vector formats read by <see cref="VecsReader"/>, hnswlib's and Faiss's benchmark scripts:
/// per row a little-endian int32 dimension, then the values (float32 <c>.fvecs</c>, int32 <c>.ivecs</c>,
/// uint8 <c>.bvecs</c>). File overloads write atomically (through a temporary file renamed into place).
/// </summary>
public static class VecsWriter
{
    /// <summary>Writes vectors to an <c>.fvecs</c> file.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void WriteFvecs(string path, VectorSet<float> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        WriteFvecs(path, vectors.Data, vectors.Dimension);
    }

    /// <summary>Writes row-major vectors to an <c>.fvecs</c> file.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="data">Row-major values; the length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Values per vector.</param>
    public static void WriteFvecs(string path, ReadOnlySpan<float> data, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckShape(data.Length, dimension);
        using var file = new AtomicFile(path);
        WriteRows(file.Stream, data, dimension);
        file.Commit();
    }

    /// <summary>Writes vectors in <c>.fvecs</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void WriteFvecs(Stream stream, VectorSet<float> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        WriteFvecs(stream, vectors.Data, vectors.Dimension);
    }

    /// <summary>Writes row-major vectors in <c>.fvecs</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="data">Row-major values; the length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Values per vector.</param>
    public static void WriteFvecs(Stream stream, ReadOnlySpan<float> data, int dimension)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        CheckShape(data.Length, dimension);
        WriteRows(stream, data, dimension);
    }

    /// <summary>Writes vectors to an <c>.ivecs</c> file.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void WriteIvecs(string path, VectorSet<int> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        WriteIvecs(path, vectors.Data, vectors.Dimension);
    }

    /// <summary>Writes row-major vectors to an <c>.ivecs</c> file (e.g. ground-truth neighbour ids, k per query).</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="data">Row-major values; the length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Values per vector.</param>
    public static void WriteIvecs(string path, ReadOnlySpan<int> data, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckShape(data.Length, dimension);
        using var file = new AtomicFile(path);
        WriteRows(file.Stream, data, dimension);
        file.Commit();
    }

    /// <summary>
    /// Writes row-major 64-bit ids (such as <c>SearchResult.Ids</c>) to an <c>.ivecs</c> file, narrowing each to int32.
    /// </summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="data">Row-major ids, each within the int32 range (−1 for a missing neighbour is fine).</param>
    /// <param name="dimension">Values per row (k).</param>
    /// <exception cref="ArgumentException">A value does not fit in an int32.</exception>
    public static void WriteIvecs(string path, ReadOnlySpan<long> data, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckShape(data.Length, dimension);
        int[] narrowed = Narrow(data);
        using var file = new AtomicFile(path);
        WriteRows<int>(file.Stream, narrowed, dimension);
        file.Commit();
    }

    /// <summary>Writes vectors in <c>.ivecs</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void WriteIvecs(Stream stream, VectorSet<int> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        WriteIvecs(stream, vectors.Data, vectors.Dimension);
    }

    /// <summary>Writes row-major vectors in <c>.ivecs</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="data">Row-major values; the length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Values per vector.</param>
    public static void WriteIvecs(Stream stream, ReadOnlySpan<int> data, int dimension)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        CheckShape(data.Length, dimension);
        WriteRows(stream, data, dimension);
    }

    /// <summary>Writes row-major 64-bit ids in <c>.ivecs</c> format to a stream, narrowing each to int32.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="data">Row-major ids, each within the int32 range.</param>
    /// <param name="dimension">Values per row (k).</param>
    /// <exception cref="ArgumentException">A value does not fit in an int32.</exception>
    public static void WriteIvecs(Stream stream, ReadOnlySpan<long> data, int dimension)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        CheckShape(data.Length, dimension);
        WriteRows<int>(stream, Narrow(data), dimension);
    }

    /// <summary>Writes vectors to a <c>.bvecs</c> file.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void WriteBvecs(string path, VectorSet<byte> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        WriteBvecs(path, vectors.Data, vectors.Dimension);
    }

    /// <summary>Writes row-major vectors to a <c>.bvecs</c> file.</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="data">Row-major values; the length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Values per vector.</param>
    public static void WriteBvecs(string path, ReadOnlySpan<byte> data, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckShape(data.Length, dimension);
        using var file = new AtomicFile(path);
        WriteRows(file.Stream, data, dimension);
        file.Commit();
    }

    /// <summary>Writes vectors in <c>.bvecs</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="vectors">Vectors to write.</param>
    public static void WriteBvecs(Stream stream, VectorSet<byte> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        WriteBvecs(stream, vectors.Data, vectors.Dimension);
    }

    /// <summary>Writes row-major vectors in <c>.bvecs</c> format to a stream, which is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="data">Row-major values; the length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">Values per vector.</param>
    public static void WriteBvecs(Stream stream, ReadOnlySpan<byte> data, int dimension)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        CheckShape(data.Length, dimension);
        WriteRows(stream, data, dimension);
    }

    private static void CheckShape(int length, int dimension)
    {
        // Dimension 0 is accepted only for an empty set, which writes an empty file, because a row of
        // dimension 0 is something readers (this one included) reject.
        if (length == 0 && dimension >= 0)
            return;
        if (dimension <= 0 || dimension > VecsReader.MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Must be in 1..{VecsReader.MaxDimension}.");
        if (length % dimension != 0)
            throw new ArgumentException($"data length {length} is not a multiple of dimension {dimension}.", "data");
    }

    private static int[] Narrow(ReadOnlySpan<long> data)
    {
        var result = new int[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            long value = data[i];
            if (value is < int.MinValue or > int.MaxValue)
                throw new ArgumentException($"data[{i}] = {value} does not fit in the int32 values of .ivecs.", nameof(data));
            result[i] = (int)value;
        }
        return result;
    }

    private static void WriteRows<T>(Stream stream, ReadOnlySpan<T> data, int dimension) where T : unmanaged
    {
        if (data.IsEmpty)
            return;
        // Rows are batched into one buffer because a write per row would be slow on unbuffered streams.
        int size = Unsafe.SizeOf<T>();
        int rowBytes = 4 + dimension * size;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(rowBytes, DataStreams.FileBufferSize));
        try
        {
            int used = 0;
            for (int offset = 0; offset < data.Length; offset += dimension)
            {
                if (used + rowBytes > buffer.Length)
                {
                    stream.Write(buffer, 0, used);
                    used = 0;
                }
                Span<byte> row = buffer.AsSpan(used, rowBytes);
                BinaryPrimitives.WriteInt32LittleEndian(row, dimension);
                Span<byte> values = row[4..];
                MemoryMarshal.AsBytes(data.Slice(offset, dimension)).CopyTo(values);
                if (!BitConverter.IsLittleEndian && size == 4)
                {
                    Span<int> words = MemoryMarshal.Cast<byte, int>(values);
                    BinaryPrimitives.ReverseEndianness(words, words);
                }
                used += rowBytes;
            }
            stream.Write(buffer, 0, used);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
