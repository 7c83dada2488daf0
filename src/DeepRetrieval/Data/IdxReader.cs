using System.Buffers.Binary;

namespace DeepRetrieval.Data;

/// <summary>
/// Reads IDX files of unsigned bytes, the format of MNIST and Fashion-MNIST: a big-endian magic number
/// (0x00000803 for images, 0x00000801 for labels), big-endian dimension sizes, then the bytes.
/// Files may be gzip-compressed; compression is detected from the content (magic 1F 8B), so a <c>.gz</c> name
/// is not required and a mislabelled file still reads.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an IDX file of uint8 images (three dimensions: count, rows, columns).</summary>
    public const uint ImagesMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of uint8 labels (one dimension: count).</summary>
    public const uint LabelsMagic = 0x00000801;

    /// <summary>Largest side of an image accepted; larger values indicate a corrupt header.</summary>
    public const int MaxImageSide = 1 << 15;

    /// <summary>Reads an IDX image file (plain or gzip).</summary>
    /// <param name="path">File to read.</param>
    /// <param name="maxCount">Read at most this many images from the start; null reads all.</param>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX uint8 image file.</exception>
    public static IdxImages ReadImages(string path, int? maxCount = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        DataStreams.RequireNonNegative(maxCount, nameof(maxCount));
        using FileStream file = DataStreams.OpenRead(path);
        return ReadImagesCore(file, maxCount, path);
    }

    /// <summary>Reads IDX images (plain or gzip) from the current position of a stream, which is left open.</summary>
    /// <param name="stream">Source, positioned at the IDX magic (or at the gzip magic).</param>
    /// <param name="maxCount">Read at most this many images from the start; null reads all.</param>
    /// <param name="sourceName">Name used in error messages, e.g. the file or resource name.</param>
    /// <exception cref="InvalidDataException">The content is not a well-formed IDX uint8 image file.</exception>
    public static IdxImages ReadImages(Stream stream, int? maxCount = null, string? sourceName = null)
    {
        DataStreams.RequireReadable(stream, nameof(stream));
        DataStreams.RequireNonNegative(maxCount, nameof(maxCount));
        return ReadImagesCore(stream, maxCount, sourceName);
    }

    /// <summary>Reads an IDX label file (plain or gzip).</summary>
    /// <param name="path">File to read.</param>
    /// <param name="maxCount">Read at most this many labels from the start; null reads all.</param>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX uint8 label file.</exception>
    public static byte[] ReadLabels(string path, int? maxCount = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        DataStreams.RequireNonNegative(maxCount, nameof(maxCount));
        using FileStream file = DataStreams.OpenRead(path);
        return ReadLabelsCore(file, maxCount, path);
    }

    /// <summary>Reads IDX labels (plain or gzip) from the current position of a stream, which is left open.</summary>
    /// <param name="stream">Source, positioned at the IDX magic (or at the gzip magic).</param>
    /// <param name="maxCount">Read at most this many labels from the start; null reads all.</param>
    /// <param name="sourceName">Name used in error messages, e.g. the file or resource name.</param>
    /// <exception cref="InvalidDataException">The content is not a well-formed IDX uint8 label file.</exception>
    public static byte[] ReadLabels(Stream stream, int? maxCount = null, string? sourceName = null)
    {
        DataStreams.RequireReadable(stream, nameof(stream));
        DataStreams.RequireNonNegative(maxCount, nameof(maxCount));
        return ReadLabelsCore(stream, maxCount, sourceName);
    }

    private static IdxImages ReadImagesCore(Stream stream, int? maxCount, string? name)
    {
        Stream source = DataStreams.OpenMaybeGzip(stream, name, out bool compressed);
        try
        {
            // Only an uncompressed seekable source tells the payload size before reading it.
            long? remaining = compressed ? null : DataStreams.Remaining(source);
            Span<byte> header = stackalloc byte[16];
            DataStreams.ReadExact(source, header[..4], name, "IDX header");
            CheckMagic(header[..4], ImagesMagic, name);
            DataStreams.ReadExact(source, header[4..], name, "IDX image header");

            uint declared = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
            uint rows = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
            uint columns = BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
            if (rows == 0 || columns == 0 || rows > MaxImageSide || columns > MaxImageSide)
                throw DataStreams.Invalid(name, $"absurd image size {rows}×{columns} in the IDX header (each side must be 1..{MaxImageSide})");
            long pixelsPerImage = (long)rows * columns;
            long payload = declared * pixelsPerImage;
            CheckPayloadLength(remaining - 16, payload, declared, "image", $"of {rows}×{columns} bytes each", name);

            long take = Math.Min(declared, maxCount ?? long.MaxValue);
            if (take * pixelsPerImage > Array.MaxLength)
                throw DataStreams.Invalid(name,
                    $"{take} images of {rows}×{columns} pixels need {take * pixelsPerImage} bytes, more than one array can hold; pass maxCount to read fewer");
            byte[] pixels = DataStreams.ReadArray<byte>(source, take * pixelsPerImage, remaining - 16, name, "IDX pixel data");
            if (compressed && take == declared && DataStreams.HasMoreData(source, name))
                throw DataStreams.Invalid(name, $"trailing data after the {declared} declared images");
            return new IdxImages((int)take, (int)rows, (int)columns, pixels);
        }
        finally
        {
            if (!ReferenceEquals(source, stream))
                source.Dispose();
        }
    }

    private static byte[] ReadLabelsCore(Stream stream, int? maxCount, string? name)
    {
        Stream source = DataStreams.OpenMaybeGzip(stream, name, out bool compressed);
        try
        {
            long? remaining = compressed ? null : DataStreams.Remaining(source);
            Span<byte> header = stackalloc byte[8];
            DataStreams.ReadExact(source, header[..4], name, "IDX header");
            CheckMagic(header[..4], LabelsMagic, name);
            DataStreams.ReadExact(source, header[4..], name, "IDX label header");

            uint declared = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
            CheckPayloadLength(remaining - 8, declared, declared, "label", "of 1 byte each", name);

            long take = Math.Min(declared, maxCount ?? long.MaxValue);
            byte[] labels = DataStreams.ReadArray<byte>(source, take, remaining - 8, name, "IDX label data");
            if (compressed && take == declared && DataStreams.HasMoreData(source, name))
                throw DataStreams.Invalid(name, $"trailing data after the {declared} declared labels");
            return labels;
        }
        finally
        {
            if (!ReferenceEquals(source, stream))
                source.Dispose();
        }
    }

    private static void CheckPayloadLength(long? available, long payload, uint declared, string item, string itemSize, string? name)
    {
        if (available is not long known)
            return;
        if (known < payload)
            throw DataStreams.Invalid(name,
                $"truncated IDX data: the header declares {declared} {item}s {itemSize} = {payload} bytes, but only {known} bytes follow the header");
        if (known > payload)
            throw DataStreams.Invalid(name,
                $"the header declares {declared} {item}s {itemSize} = {payload} bytes, but {known} bytes follow the header ({known - payload} trailing)");
    }

    private static void CheckMagic(ReadOnlySpan<byte> magic, uint expected, string? name)
    {
        uint value = BinaryPrimitives.ReadUInt32BigEndian(magic);
        if (value == expected)
            return;
        string expectedKind = expected == ImagesMagic ? "uint8 images" : "uint8 labels";
        if (magic[0] != 0 || magic[1] != 0)
            throw DataStreams.Invalid(name, $"bad magic 0x{value:X8}, expected 0x{expected:X8} (IDX {expectedKind}); this is not an IDX file");
        if (magic[2] != 0x08)
            throw DataStreams.Invalid(name,
                $"IDX data type 0x{magic[2]:X2} ({TypeName(magic[2])}) is not supported, expected 0x08 (uint8); magic 0x{value:X8}");
        string hint = value switch
        {
            ImagesMagic => "; this is an IDX image file",
            LabelsMagic => "; this is an IDX label file",
            _ => "",
        };
        throw DataStreams.Invalid(name,
            $"bad magic 0x{value:X8}, expected 0x{expected:X8} (IDX {expectedKind}): {magic[3]} dimension(s) instead of {expected & 0xFF}{hint}");
    }

    private static string TypeName(byte code) => code switch
    {
        0x08 => "uint8",
        0x09 => "int8",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "unknown",
    };
}
