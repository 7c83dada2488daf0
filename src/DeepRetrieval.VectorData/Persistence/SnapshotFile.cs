using System.Buffers.Binary;
using System.IO.Hashing;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// A snapshot of every record of a collection at a checkpoint: <c>"DRVS", version, generation, next id, row count</c>, then one
/// frame <c>[int32 length][id + row]</c> per record, then an XxHash64 of everything before it. The checksum is verified over
/// the whole file before any row is decoded, and each frame length is checked against the bytes left.
/// </summary>
internal static class SnapshotFile
{
    private const uint Magic = 0x53565244; // "DRVS"
    private const uint Version = 1;
    private const int HeaderSize = 28;

    public static void Write(string path, RecordTable table, long generation)
    {
        AtomicFile.Write(path, stream =>
        {
            var hash = new XxHash64();
            var rows = table.EnumerateRows().ToList();
            var header = new byte[HeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Version);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), generation);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), table.NextId);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(24), rows.Count);
            Emit(stream, hash, header);
            var writer = new ByteWriter();
            var length = new byte[4];
            foreach (var (id, row) in rows)
            {
                writer.Clear();
                RecordCodec.WriteIdentifiedRow(writer, table.Schema, id, row);
                BinaryPrimitives.WriteInt32LittleEndian(length, writer.Length);
                Emit(stream, hash, length);
                Emit(stream, hash, writer.WrittenSpan);
            }
            Span<byte> trailer = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(trailer, hash.GetCurrentHashAsUInt64());
            stream.Write(trailer);
        });
    }

    public static (long NextId, List<(long Id, RecordRow Row)> Rows) Read(string path, RecordSchema schema, long generation)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length < HeaderSize + 8) throw new InvalidDataException($"{path}: a snapshot of {length} bytes is shorter than its header.");
        var hash = new XxHash64();
        var buffer = new byte[1 << 16];
        for (long left = length - 8; left > 0;)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0) throw new InvalidDataException($"{path}: the snapshot ended early.");
            hash.Append(buffer.AsSpan(0, read));
            left -= read;
        }
        var trailer = new byte[8];
        stream.ReadExactly(trailer);
        if (hash.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(trailer))
            throw new InvalidDataException($"{path}: the snapshot fails its checksum.");

        stream.Position = 0;
        var header = new byte[HeaderSize];
        stream.ReadExactly(header);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic) throw new InvalidDataException($"{path}: not a DeepRetrieval snapshot.");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
        if (version != Version) throw new InvalidDataException($"{path}: snapshot format version {version}; this library reads version {Version}.");
        long fileGeneration = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
        if (fileGeneration != generation)
            throw new InvalidDataException($"{path}: the snapshot belongs to generation {fileGeneration}, but the manifest names generation {generation}.");
        long nextId = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16));
        int count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(24));
        long body = length - HeaderSize - 8;
        if (count < 0 || (long)count * 5 > body || nextId < 0 || nextId > Array.MaxLength)
            throw new InvalidDataException($"{path}: the header declares {count} rows and next id {nextId}, which the file cannot hold.");
        var rows = new List<(long, RecordRow)>(count);
        var lengthBytes = new byte[4];
        long previous = -1;
        for (int i = 0; i < count; i++)
        {
            stream.ReadExactly(lengthBytes);
            int size = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
            if (size <= 0 || size > length - 8 - stream.Position)
                throw new InvalidDataException($"{path}: row {i} declares {size} bytes, more than the file has left.");
            var frame = new byte[size];
            stream.ReadExactly(frame);
            (long id, RecordRow row) = RecordCodec.DecodeRow(schema, frame);
            if (id <= previous || id >= nextId)
                throw new InvalidDataException($"{path}: row {i} has id {id}, out of order or not below the next id {nextId}.");
            previous = id;
            rows.Add((id, row));
        }
        if (stream.Position != length - 8) throw new InvalidDataException($"{path}: {length - 8 - stream.Position} bytes follow the last row.");
        return (nextId, rows);
    }

    private static void Emit(Stream stream, XxHash64 hash, ReadOnlySpan<byte> bytes)
    {
        hash.Append(bytes);
        stream.Write(bytes);
    }
}
