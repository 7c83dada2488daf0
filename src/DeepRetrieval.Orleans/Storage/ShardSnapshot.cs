using System.IO.Hashing;
using DeepRetrieval.Indexes;
using DeepRetrieval.Persistence;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.Orleans.Storage;

/// <summary>
/// A shard's checkpoint as chunked bytes: a rows part (every record with its internal id) and one part per vector column
/// holding that column's index in the DeepRetrieval index file format, so a shard reopens without re-indexing.
/// </summary>
/// <remarks>
/// Rows part layout (little-endian): <c>"DRSR"</c>, format version (uint32), next id (int64), row count (int64), then per row
/// its length (int32) and <c>RecordCodec.EncodeRow</c> bytes, then the XxHash64 of everything before it. Reading treats the
/// bytes as hostile: every length is checked against what is left before anything is allocated.
/// </remarks>
internal static class ShardSnapshot
{
    private const uint FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "DRSR"u8;

    /// <summary>Writes the rows part of a table (call while no writer changes it).</summary>
    public static List<byte[]> EncodeRows(RecordTable table, int chunkBytes)
    {
        var stream = new ChunkWriteStream(chunkBytes);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(table.NextId);
            var rows = table.EnumerateRows().ToList();
            writer.Write((long)rows.Count);
            foreach (var (id, row) in rows)
            {
                byte[] bytes = RecordCodec.EncodeRow(table.Schema, id, row);
                writer.Write(bytes.Length);
                writer.Write(bytes);
            }
            writer.Flush();
            writer.Write(stream.Hash);
        }
        return stream.Complete();
    }

    /// <summary>Writes the index part of one vector column (call while no writer changes the table).</summary>
    public static List<byte[]> EncodeIndex(RecordTable table, int column, int chunkBytes)
    {
        var stream = new ChunkWriteStream(chunkBytes);
        table.GetIndex(column).Save(stream);
        return stream.Complete();
    }

    /// <summary>Fills an empty table from a rows part and the index parts (a null part: rebuild that column's index).</summary>
    /// <exception cref="InvalidDataException">A part is truncated, corrupt, or does not fit the schema.</exception>
    public static void Load(RecordTable table, IReadOnlyList<byte[]> rowChunks, IReadOnlyList<IReadOnlyList<byte[]>?> indexChunks, string what)
    {
        var stream = new ChunkReadStream(rowChunks);
        const int headerBytes = 4 + 4 + 8 + 8;
        if (stream.Length < headerBytes + 8) throw new InvalidDataException($"{what}: the snapshot is {stream.Length} bytes, shorter than its header.");
        var hash = new XxHash64();
        var buffer = new byte[1 << 16];
        for (long left = stream.Length - 8; left > 0;)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            hash.Append(buffer.AsSpan(0, read));
            left -= read;
        }
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        if (reader.ReadUInt64() != hash.GetCurrentHashAsUInt64()) throw new InvalidDataException($"{what}: the snapshot's checksum does not match its contents.");
        stream.Position = 0;
        if (!reader.ReadBytes(4).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{what}: not a shard snapshot (bad magic bytes).");
        uint version = reader.ReadUInt32();
        if (version != FormatVersion) throw new InvalidDataException($"{what}: snapshot format version {version}; this library reads version {FormatVersion}.");
        long nextId = reader.ReadInt64();
        long count = reader.ReadInt64();
        long end = stream.Length - 8;
        // Each row takes at least its 4-byte length and an 8-byte id.
        if (count < 0 || count > (end - stream.Position) / 12) throw new InvalidDataException($"{what}: the snapshot declares {count} rows, more than its bytes hold.");
        var rows = new List<(long, RecordRow)>((int)count);
        for (long i = 0; i < count; i++)
        {
            int length = reader.ReadInt32();
            if (length < 8 || length > end - stream.Position) throw new InvalidDataException($"{what}: row {i} declares {length} bytes; {end - stream.Position} are left.");
            rows.Add(RecordCodec.DecodeRow(table.Schema, reader.ReadBytes(length)));
        }
        if (stream.Position != end) throw new InvalidDataException($"{what}: {end - stream.Position} bytes follow the last row.");
        table.LoadRows(nextId, rows);
        for (int c = 0; c < table.Schema.Vectors.Count; c++)
        {
            if (c < indexChunks.Count && indexChunks[c] is { Count: > 0 } chunks) table.LoadIndex(c, IndexFile.Load(new ChunkReadStream(chunks)));
            else table.RebuildIndex(c);
        }
    }
}
