using System.Buffers.Binary;
using System.IO.Compression;

namespace DeepRetrieval.Data;

/// <summary>
/// Writes IDX uint8 image and label files (the MNIST format), plain or gzip-compressed at the smallest size,
/// readable by <see cref="IdxReader"/> and by the usual Python loaders.
/// </summary>
public static class IdxWriter
{
    /// <summary>Writes images to a file, atomically (through a temporary file that is renamed into place).</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="images">Images to write.</param>
    /// <param name="gzip">Compress with gzip; null compresses when <paramref name="path"/> ends in <c>.gz</c>.</param>
    public static void WriteImages(string path, IdxImages images, bool? gzip = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(images);
        bool compress = gzip ?? DataStreams.HasGzipExtension(path);
        using var file = new AtomicFile(path);
        WriteImages(file.Stream, images, compress);
        file.Commit();
    }

    /// <summary>Writes images to a stream at its current position; the stream is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="images">Images to write.</param>
    /// <param name="gzip">Compress with gzip.</param>
    public static void WriteImages(Stream stream, IdxImages images, bool gzip = false)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        ArgumentNullException.ThrowIfNull(images);
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(header, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)images.Count);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)images.Rows);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], (uint)images.Columns);
        Write(stream, header, images.Pixels, gzip);
    }

    /// <summary>Writes labels to a file, atomically (through a temporary file that is renamed into place).</summary>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="labels">One byte per item.</param>
    /// <param name="gzip">Compress with gzip; null compresses when <paramref name="path"/> ends in <c>.gz</c>.</param>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels, bool? gzip = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        bool compress = gzip ?? DataStreams.HasGzipExtension(path);
        using var file = new AtomicFile(path);
        WriteLabels(file.Stream, labels, compress);
        file.Commit();
    }

    /// <summary>Writes labels to a stream at its current position; the stream is left open.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="labels">One byte per item.</param>
    /// <param name="gzip">Compress with gzip.</param>
    public static void WriteLabels(Stream stream, ReadOnlySpan<byte> labels, bool gzip = false)
    {
        DataStreams.RequireWritable(stream, nameof(stream));
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)labels.Length);
        Write(stream, header, labels, gzip);
    }

    private static void Write(Stream stream, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, bool gzip)
    {
        if (!gzip)
        {
            stream.Write(header);
            stream.Write(payload);
            return;
        }
        using var compressor = new GZipStream(stream, CompressionLevel.SmallestSize, leaveOpen: true);
        compressor.Write(header);
        compressor.Write(payload);
    }
}
