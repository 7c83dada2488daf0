using System.IO.Hashing;
using System.Text;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Persistence;

/// <summary>
/// The one binary container every index is saved in, and the entry point for loading any of them.
/// </summary>
/// <remarks>
/// <para>Layout (little-endian):</para>
/// <code>
/// "DRIX"             4 bytes magic
/// format version     uint32 (this library writes and reads <see cref="FormatVersion"/>)
/// kind length, kind  uint8 + ASCII, for example "Flat"
/// payload            written by the index kind (parameters first, then data)
/// payload length     int64
/// checksum           uint64 XxHash64 of every preceding byte
/// </code>
/// <para>The trailer lets a save stream without seeking or buffering. Loading checks the magic, the version,
/// the kind, the payload length against the stream length and the checksum before the index reads a byte
/// of its payload, and each array the payload declares is checked against the bytes left before it is
/// allocated. Saving to a file writes a temporary file beside it and renames it over the target, so a
/// crash never leaves a half-written index under the real name.</para>
/// </remarks>
public static class IndexFile
{
    /// <summary>The format version this library writes; files with a larger version are rejected.</summary>
    public const uint FormatVersion = 1;

    internal static ReadOnlySpan<byte> Magic => "DRIX"u8;
    private const int TrailerSize = sizeof(long) + sizeof(ulong);
    private const int MaxKindLength = 64;

    private static readonly Dictionary<string, Func<IndexPayloadReader, IVectorIndex>> Loaders = new(StringComparer.Ordinal)
    {
        [FlatIndex.KindName] = FlatIndex.ReadPayload,
        [HnswIndex.KindName] = HnswIndex.ReadPayload,
        [ScalarQuantizerIndex.KindName] = ScalarQuantizerIndex.ReadPayload,
        [PqIndex.KindName] = PqIndex.ReadPayload,
        [TransformedIndex.KindName] = TransformedIndex.ReadPayload,
        [IvfIndex.KindName] = IvfIndex.ReadPayload,
    };

    /// <summary>Writes <paramref name="index"/> to <paramref name="path"/> atomically (temporary file, flush, rename).</summary>
    /// <param name="index">The index to save.</param>
    /// <param name="path">Target file; replaced if it exists.</param>
    public static void Save(IVectorIndex index, string path)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new AtomicFile(path);
        index.Save(file.Stream);
        file.Commit();
    }

    /// <summary>Loads an index of any kind from a file written by <see cref="Save(IVectorIndex, string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated or corrupt.</exception>
    public static IVectorIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            return Load(stream);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Loads an index of any kind from a stream positioned at the start of an index file.</summary>
    /// <param name="stream">A readable stream; a non-seekable one is buffered in memory first.</param>
    /// <exception cref="InvalidDataException">Not an index file, newer version, unknown kind, truncated or corrupt.</exception>
    public static IVectorIndex Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            var buffered = new MemoryStream();
            stream.CopyTo(buffered);
            buffered.Position = 0;
            stream = buffered;
        }

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
        string kind = Encoding.ASCII.GetString(kindBytes);

        long headerSize = header.Length + kindLength;
        long payloadLength = available - headerSize - TrailerSize;
        stream.Position = start + available - TrailerSize;
        var trailer = new byte[TrailerSize];
        ReadFully(stream, trailer);
        long declaredLength = BitConverter.ToInt64(trailer, 0);
        ulong declaredChecksum = BitConverter.ToUInt64(trailer, sizeof(long));
        if (declaredLength != payloadLength)
            throw new InvalidDataException($"Truncated or padded index file: the trailer declares a {declaredLength}-byte payload but the file holds {payloadLength} bytes for it.");

        stream.Position = start;
        var hash = new XxHash64();
        var chunk = new byte[1 << 16];
        for (long left = available - TrailerSize; left > 0;)
        {
            int read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
            if (read == 0) throw new InvalidDataException("Truncated index file: the stream ended early.");
            hash.Append(chunk.AsSpan(0, read));
            left -= read;
        }
        // The trailer's length field is covered by the checksum too.
        hash.Append(trailer.AsSpan(0, sizeof(long)));
        if (hash.GetCurrentHashAsUInt64() != declaredChecksum)
            throw new InvalidDataException("Corrupt index file: the checksum does not match its contents.");

        if (!Loaders.TryGetValue(kind, out var loader))
            throw new InvalidDataException($"Unknown index kind \"{kind}\" in the index file; this library knows: {string.Join(", ", Loaders.Keys)}.");

        stream.Position = start + headerSize;
        var reader = new IndexPayloadReader(stream, payloadLength, kind);
        IVectorIndex index = loader(reader);
        if (reader.Remaining != 0)
            throw new InvalidDataException($"Corrupt {kind} index file: {reader.Remaining} payload bytes were left unread.");
        stream.Position = start + available;
        return index;
    }

    internal static Func<IndexPayloadReader, IVectorIndex>? FindLoader(string kind) =>
        Loaders.TryGetValue(kind, out var loader) ? loader : null;

    /// <summary>Writes the container around a payload: used by index implementations in their <c>Save</c>.</summary>
    /// <param name="stream">Destination.</param>
    /// <param name="kind">The index kind name (ASCII, 1 to 64 characters).</param>
    /// <param name="writePayload">Writes the index's parameters and data.</param>
    public static void Write(Stream stream, string kind, Action<IndexPayloadWriter> writePayload)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(writePayload);
        if (string.IsNullOrEmpty(kind) || kind.Length > MaxKindLength || !Ascii.IsValid(kind))
            throw new ArgumentException($"The kind must be 1 to {MaxKindLength} ASCII characters; got \"{kind}\".", nameof(kind));
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
