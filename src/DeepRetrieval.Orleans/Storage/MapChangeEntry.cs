using System.Buffers.Binary;

namespace DeepRetrieval.Orleans.Storage;

/// <summary>
/// A shard-log entry that changes the shard's range (a split), beside <c>RecordCodec</c>'s upsert (kind 1) and delete (kind 2)
/// entries: kind 0x80, the new map version (int64), the range's first hash and one past its last (uint64, 0 for the end of
/// the hash space). Replicas learn the change from the log in order, like any write.
/// </summary>
internal static class MapChangeEntry
{
    public const byte Kind = 0x80;
    private const int Length = 1 + 8 + 8 + 8;

    public static byte[] Encode(long mapVersion, ulong rangeStart, ulong rangeEnd)
    {
        var bytes = new byte[Length];
        bytes[0] = Kind;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), mapVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(9), rangeStart);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(17), rangeEnd);
        return bytes;
    }

    /// <summary>Decodes the entry when it is a map change; false for record entries.</summary>
    /// <exception cref="InvalidDataException">It is a map change of the wrong length.</exception>
    public static bool TryDecode(ReadOnlySpan<byte> payload, out long mapVersion, out ulong rangeStart, out ulong rangeEnd)
    {
        mapVersion = 0;
        rangeStart = rangeEnd = 0;
        if (payload.IsEmpty || payload[0] != Kind) return false;
        if (payload.Length != Length) throw new InvalidDataException($"A shard-map change entry is {payload.Length} bytes, not {Length}.");
        mapVersion = BinaryPrimitives.ReadInt64LittleEndian(payload[1..]);
        rangeStart = BinaryPrimitives.ReadUInt64LittleEndian(payload[9..]);
        rangeEnd = BinaryPrimitives.ReadUInt64LittleEndian(payload[17..]);
        return true;
    }
}
