using System.IO.Hashing;
using System.Text;

namespace DeepRetrieval.Persistence;

/// <summary>
/// The one binary container every index is saved in: header, payload and checksum, with the checks that make a hostile
/// file fail with <see cref="InvalidDataException"/> before anything is allocated from it. It knows nothing of index
/// kinds; <c>DeepRetrieval.Indexes.IndexFile</c> saves and loads indexes through it.
/// </summary>
/// <remarks>
/// <para>Layout (little-endian):</para>
/// <code>
/// "DRIX"             4 bytes magic
/// format version     uint32 (this library writes <see cref="FormatVersion"/> and reads every version up to it)
/// kind length, kind  uint8 + ASCII, for example "Flat"
/// payload            written by the index kind (parameters first, then data)
/// payload length     int64
/// checksum           uint64 XxHash64 of every preceding byte
/// </code>
/// <para>From version 2 on, large arrays (written with <see cref="IndexPayloadWriter.WriteAligned{T}"/>) are preceded by
/// a padding-length byte and zero bytes up to the next multiple of <see cref="ArrayAlignment"/> bytes from the file's start, so a mapped file
/// (<see cref="Map{T}"/>) can use them in place; version 1 files have no padding and still load.</para>
/// <para>The trailer lets a save stream without seeking or buffering. Reading checks the magic, the version, the kind,
/// the payload length against the stream length and the checksum before the payload reader sees a byte; each array the
/// payload declares is checked against the bytes left before it is allocated, and nested parts (an IVF's coarse
/// quantizer, a pre-transform's inner index, its transforms) are bounded to <see cref="MaxNestingDepth"/> levels and
/// <see cref="MaxObjects"/> parts in all, so no file can exhaust the stack.</para>
/// </remarks>
public static class IndexFileFormat
{
    /// <summary>The format version this library writes; files with a larger version are rejected.</summary>
    public const uint FormatVersion = 2;

    /// <summary>
    /// The most nesting levels a file may hold, the outermost index being level 1 (an RFlat around a pre-transform around an
    /// IVF with an HNSW coarse quantizer is 4); deeper files are rejected, and indexes cannot be built deeper.
    /// </summary>
    public const int MaxNestingDepth = 16;

    /// <summary>The most nested parts (indexes and transforms, the outermost index included) a file may hold.</summary>
    public const int MaxObjects = 4096;

    /// <summary>The longest kind name, in ASCII characters.</summary>
    public const int MaxKindLength = 64;

    internal static ReadOnlySpan<byte> Magic => "DRIX"u8;
    private const int TrailerSize = sizeof(long) + sizeof(ulong);

    /// <summary>Writes the container around a payload.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="kind">The index kind name (ASCII, 1 to <see cref="MaxKindLength"/> characters).</param>
    /// <param name="writePayload">Writes the index's parameters and data.</param>
    /// <exception cref="ArgumentException">The kind is empty, too long or not ASCII.</exception>
    public static void Write(Stream stream, string kind, Action<IndexPayloadWriter> writePayload)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(writePayload);
        CheckKind(kind);
        var writer = new IndexPayloadWriter(stream);
        writer.WriteRaw(Magic);
        writer.WriteUInt32(FormatVersion);
        writer.WriteRaw([(byte)kind.Length]);
        writer.WriteRaw(Encoding.ASCII.GetBytes(kind));
        long before = writer.BytesWritten;
        writePayload(writer);
        writer.WriteInt64(writer.BytesWritten - before);
        writer.WriteChecksum();
    }

    /// <summary>
    /// Validates the container at the stream's position (magic, version, kind, length, checksum) and then hands the kind
    /// and a bounded payload reader to <paramref name="readPayload"/>, which must read the whole payload.
    /// </summary>
    /// <typeparam name="T">What the payload becomes.</typeparam>
    /// <param name="stream">A readable stream; a non-seekable one is buffered in memory first.</param>
    /// <param name="readPayload">Reads the payload of the given kind (throw <see cref="InvalidDataException"/> for an unknown kind).</param>
    /// <param name="cancellationToken">Checked between the payload's arrays.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, truncated, corrupt, too deeply nested, or payload left unread.</exception>
    public static T Read<T>(Stream stream, Func<string, IndexPayloadReader, T> readPayload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(readPayload);
        if (!stream.CanSeek)
        {
            var buffered = new MemoryStream();
            stream.CopyTo(buffered);
            buffered.Position = 0;
            stream = buffered;
        }

        long start = stream.Position;
        Header header = ReadHeader(stream);
        stream.Position = start;
        var hash = new XxHash64();
        var chunk = new byte[1 << 16];
        // The checksum covers every byte but its own, the trailer's length field included.
        for (long left = header.FileLength - sizeof(ulong); left > 0;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
            if (read == 0) throw new InvalidDataException("Truncated index file: the stream ended early.");
            hash.Append(chunk.AsSpan(0, read));
            left -= read;
        }
        if (hash.GetCurrentHashAsUInt64() != header.Checksum)
            throw new InvalidDataException("Corrupt index file: the checksum does not match its contents.");

        stream.Position = start + header.Size;
        var reader = new IndexPayloadReader(stream, header.Version, header.PayloadLength, header.Kind, mapping: null, cancellationToken);
        T result = ReadAll(reader, header.Kind, readPayload);
        stream.Position = start + header.FileLength;
        return result;
    }

    /// <summary>
    /// Maps an index file read-only and hands a payload reader over the mapping to <paramref name="readPayload"/>: kinds that
    /// support it take their large arrays as pointers into <paramref name="mapping"/> instead of copying them. The header,
    /// the payload length and every array's bounds are checked; the checksum is not (it would read the whole file), unless
    /// <paramref name="verifyChecksum"/> is set; <see cref="IndexMapping.VerifyChecksum"/> checks it later.
    /// </summary>
    /// <typeparam name="T">What the payload becomes.</typeparam>
    /// <param name="path">The file.</param>
    /// <param name="readPayload">Reads the payload of the given kind.</param>
    /// <param name="verifyChecksum">Hash the whole file before reading it.</param>
    /// <param name="mapping">The mapping the result uses, to be disposed with it; null when the result holds no pointer into
    /// the file: the kind cannot map (it copied its payload), or the file's format version predates aligned arrays
    /// (version 1). The result was then loaded fully and its checksum verified.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, truncated, corrupt, or payload left unread.</exception>
    public static T Map<T>(string path, Func<string, IndexPayloadReader, T> readPayload, bool verifyChecksum, out IndexMapping? mapping)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(readPayload);
        IndexMapping opened = IndexMapping.Open(path);
        try
        {
            Header header;
            using (var headerStream = opened.CreateStream()) header = ReadHeader(headerStream);
            if (header.Version < FirstAlignedVersion)
            {
                // Older files have unaligned arrays: load them fully, as their writers' readers did.
                opened.Dispose();
                mapping = null;
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                return Read(file, readPayload);
            }
            if (verifyChecksum) opened.VerifyChecksum();
            var stream = opened.CreateStream();
            stream.Position = header.Size;
            var reader = new IndexPayloadReader(stream, header.Version, header.PayloadLength, header.Kind, opened);
            T result = ReadAll(reader, header.Kind, readPayload);
            if (reader.MappedArrays == 0)
            {
                // The kind copied everything (it cannot map): the result is an ordinary loaded index, checked like one.
                if (!verifyChecksum) opened.VerifyChecksum();
                opened.Dispose();
                mapping = null;
                return result;
            }
            mapping = opened;
            return result;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    /// <summary>The first format version whose large arrays start at <see cref="ArrayAlignment"/>-byte offsets, so they can be mapped.</summary>
    internal const uint FirstAlignedVersion = 2;

    /// <summary>Large arrays (vectors, codes, links, lists) start at multiples of this many bytes from the file's start.</summary>
    public const int ArrayAlignment = 64;

    private static T ReadAll<T>(IndexPayloadReader reader, string kind, Func<string, IndexPayloadReader, T> readPayload)
    {
        T result = readPayload(kind, reader);
        if (reader.Remaining != 0)
            throw new InvalidDataException($"Corrupt {kind} index file: {reader.Remaining} payload bytes were left unread.");
        return result;
    }

    // Validates the magic, version, kind and trailer length of the file at the stream's position; leaves the position anywhere.
    private static Header ReadHeader(Stream stream)
    {
        long start = stream.Position;
        long available = stream.Length - start;
        var header = new byte[Magic.Length + sizeof(uint) + 1];
        if (available < header.Length + TrailerSize || ReadFully(stream, header) < header.Length)
            throw new InvalidDataException($"Truncated index file: {available} bytes is shorter than the smallest valid file.");
        if (!header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException("Not a DeepRetrieval index file: the magic bytes are not \"DRIX\".");
        uint version = BitConverter.ToUInt32(header, Magic.Length);
        if (version > FormatVersion)
            throw new InvalidDataException($"The index file has format version {version}; this library reads versions up to {FormatVersion}. Upgrade DeepRetrieval to load it.");
        if (version == 0)
            throw new InvalidDataException("The index file has format version 0, which no DeepRetrieval release writes.");
        int kindLength = header[^1];
        if (kindLength is 0 or > MaxKindLength)
            throw new InvalidDataException($"Corrupt index file: kind name length {kindLength} is outside 1..{MaxKindLength}.");
        var kindBytes = new byte[kindLength];
        if (available < header.Length + kindLength + TrailerSize || ReadFully(stream, kindBytes) < kindLength)
            throw new InvalidDataException("Truncated index file: it ends inside the header.");
        if (!Ascii.IsValid(kindBytes))
            throw new InvalidDataException("Corrupt index file: the kind name is not ASCII.");

        long headerSize = header.Length + kindLength;
        long payloadLength = available - headerSize - TrailerSize;
        stream.Position = start + available - TrailerSize;
        var trailer = new byte[TrailerSize];
        ReadFully(stream, trailer);
        long declaredLength = BitConverter.ToInt64(trailer, 0);
        if (declaredLength != payloadLength)
            throw new InvalidDataException($"Truncated or padded index file: the trailer declares a {declaredLength}-byte payload but the file holds {payloadLength} bytes for it.");
        return new Header(Encoding.ASCII.GetString(kindBytes), version, headerSize, payloadLength, available, BitConverter.ToUInt64(trailer, sizeof(long)));
    }

    private readonly record struct Header(string Kind, uint Version, long Size, long PayloadLength, long FileLength, ulong Checksum);

    internal static void CheckKind(string kind)
    {
        if (string.IsNullOrEmpty(kind) || kind.Length > MaxKindLength || !Ascii.IsValid(kind))
            throw new ArgumentException($"The kind must be 1 to {MaxKindLength} ASCII characters; got \"{kind}\".", nameof(kind));
    }

    private static int ReadFully(Stream stream, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer, total, buffer.Length - total);
            if (read == 0) break;
            total += read;
        }
        return total;
    }
}
