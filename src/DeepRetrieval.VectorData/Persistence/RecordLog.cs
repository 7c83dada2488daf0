using System.Buffers.Binary;
using System.IO.Hashing;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// The append-only record log of one checkpoint generation. Each entry is framed as
/// <c>[int32 length][uint32 XxHash32 of the length][payload][uint64 XxHash64 of length and payload]</c>, written with one
/// call and flushed before the write is acknowledged.
/// </summary>
/// <remarks>
/// <para>Replay tolerates a torn tail, the only damage a crash mid-append can leave: a partial frame header, a valid header
/// whose payload runs past the end of the file, a last entry whose checksum fails, or a zero-filled tail. It rejects with
/// <see cref="InvalidDataException"/> an entry that fails its checksum while more entries follow it, or a corrupt length
/// field with data after it: that is damage to acknowledged writes, and silently dropping it would lose them.</para>
/// </remarks>
internal sealed class RecordLog : IDisposable
{
    private const uint Magic = 0x4C565244; // "DRVL"
    private const uint Version = 1;
    private const int HeaderSize = 24;
    private const int FrameOverhead = 16;
    private const int MaxEntryBytes = 1 << 30;

    private readonly FileStream _stream;
    private readonly bool _flushToDisk;

    private RecordLog(FileStream stream, bool flushToDisk)
    {
        _stream = stream;
        _flushToDisk = flushToDisk;
    }

    /// <summary>Bytes in the log, header included.</summary>
    public long Length => _stream.Length;

    /// <summary>True when the log holds entries.</summary>
    public bool HasEntries => _stream.Length > HeaderSize;

    /// <summary>Creates an empty log (replacing any file at the path) and flushes it to disk.</summary>
    public static RecordLog Create(string path, long generation, bool flushToDisk)
    {
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        try
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Version);
            BinaryPrimitives.WriteInt64LittleEndian(header[8..], generation);
            BinaryPrimitives.WriteUInt64LittleEndian(header[16..], XxHash64.HashToUInt64(header[..16]));
            stream.Write(header);
            stream.Flush(flushToDisk: true);
            return new RecordLog(stream, flushToDisk);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a log for appending after reading its entries. A torn tail is cut off (its length is returned in
    /// <paramref name="discardedBytes"/>); corruption before the tail throws.
    /// </summary>
    public static RecordLog Open(string path, long generation, bool flushToDisk, out List<byte[]> entries, out long discardedBytes)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            entries = ReadEntries(stream, path, generation, out long validLength);
            discardedBytes = stream.Length - validLength;
            if (discardedBytes > 0)
            {
                stream.SetLength(validLength);
                stream.Flush(flushToDisk: true);
            }
            stream.Position = validLength;
            return new RecordLog(stream, flushToDisk);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends one entry and flushes it (to disk, or to the operating system).</summary>
    public void Append(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty || payload.Length > MaxEntryBytes)
            throw new ArgumentException($"A log entry holds 1 to {MaxEntryBytes} bytes; this batch encodes to {payload.Length}. Upsert in smaller batches.", nameof(payload));
        var frame = new byte[payload.Length + FrameOverhead];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), XxHash32.HashToUInt32(frame.AsSpan(0, 4)));
        payload.CopyTo(frame.AsSpan(8));
        var hash = new XxHash64();
        hash.Append(frame.AsSpan(0, 4));
        hash.Append(payload);
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(8 + payload.Length), hash.GetCurrentHashAsUInt64());
        long before = _stream.Length;
        try
        {
            _stream.Write(frame);
            _stream.Flush(flushToDisk: _flushToDisk);
        }
        catch
        {
            // Leave no partial frame behind for the next append to follow (replay would take it for corruption).
            try
            {
                _stream.SetLength(before);
                _stream.Position = before;
            }
            catch (IOException)
            {
            }
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();

    private static List<byte[]> ReadEntries(FileStream stream, string path, long generation, out long validLength)
    {
        long length = stream.Length;
        var header = new byte[HeaderSize];
        if (length < HeaderSize || stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) < HeaderSize)
            throw new InvalidDataException($"{path}: the record log is {length} bytes, shorter than its {HeaderSize}-byte header.");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic
            || XxHash64.HashToUInt64(header.AsSpan(0, 16)) != BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(16)))
            throw new InvalidDataException($"{path}: not a DeepRetrieval record log, or its header is corrupt.");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
        if (version != Version)
            throw new InvalidDataException($"{path}: record log format version {version}; this library reads version {Version}.");
        long fileGeneration = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
        if (fileGeneration != generation)
            throw new InvalidDataException($"{path}: the log belongs to checkpoint generation {fileGeneration}, but the manifest names generation {generation}.");

        var entries = new List<byte[]>();
        long position = HeaderSize;
        var frameHeader = new byte[8];
        while (position < length)
        {
            long remaining = length - position;
            if (remaining < 8) break; // a partial frame header: the append that wrote it was never acknowledged
            stream.Position = position;
            stream.ReadExactly(frameHeader);
            int size = BinaryPrimitives.ReadInt32LittleEndian(frameHeader);
            bool headerValid = size > 0 && size <= MaxEntryBytes
                && XxHash32.HashToUInt32(frameHeader.AsSpan(0, 4)) == BinaryPrimitives.ReadUInt32LittleEndian(frameHeader.AsSpan(4));
            if (!headerValid)
            {
                if (IsZeroFrom(stream, position, length)) break; // a zero-filled tail
                throw new InvalidDataException($"{path}: the record log entry at byte {position} has a corrupt header and {remaining} bytes follow; the log is damaged before its tail, so acknowledged writes would be lost. Restore the collection folder from a backup.");
            }
            if (remaining < size + FrameOverhead) break; // the payload was cut short
            var payload = new byte[size];
            stream.ReadExactly(payload);
            var checksum = new byte[8];
            stream.ReadExactly(checksum);
            var hash = new XxHash64();
            hash.Append(frameHeader.AsSpan(0, 4));
            hash.Append(payload);
            if (hash.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(checksum))
            {
                if (position + size + FrameOverhead == length) break; // the last entry, torn
                throw new InvalidDataException($"{path}: the record log entry at byte {position} ({size} bytes) fails its checksum and more entries follow it; the log is damaged before its tail. Restore the collection folder from a backup.");
            }
            entries.Add(payload);
            position += size + FrameOverhead;
        }
        validLength = position;
        return entries;
    }

    private static bool IsZeroFrom(FileStream stream, long position, long length)
    {
        stream.Position = position;
        var buffer = new byte[64 * 1024];
        for (long left = length - position; left > 0;)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0) break;
            if (buffer.AsSpan(0, read).ContainsAnyExcept((byte)0)) return false;
            left -= read;
        }
        return true;
    }
}
