using System.Buffers.Binary;
using System.IO.Hashing;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// The manifest of a collection folder: the schema and the checkpoint generation whose snapshot, index files and log are
/// current. Replacing it (atomically) is the commit point of a checkpoint.
/// </summary>
internal static class ManifestFile
{
    public const string FileName = "manifest";
    private const uint Magic = 0x4D565244; // "DRVM"
    private const uint Version = 1;
    private const int MaxBytes = 16 << 20;

    public static void Write(string folder, RecordSchema schema, long generation)
    {
        byte[] schemaBytes = RecordCodec.EncodeSchema(schema);
        var bytes = new byte[16 + schemaBytes.Length + 8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), Version);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), generation);
        schemaBytes.CopyTo(bytes, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));
        AtomicFile.Write(Path.Combine(folder, FileName), s => s.Write(bytes));
    }

    public static (RecordSchema Schema, long Generation) Read(string folder)
    {
        string path = Path.Combine(folder, FileName);
        long length = new FileInfo(path).Length;
        if (length < 24 || length > MaxBytes)
            throw new InvalidDataException($"{path}: a manifest of {length} bytes is not valid.");
        byte[] bytes = File.ReadAllBytes(path);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
            throw new InvalidDataException($"{path}: not a DeepRetrieval collection manifest.");
        if (XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)) != BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8)))
            throw new InvalidDataException($"{path}: the manifest fails its checksum.");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4));
        if (version != Version)
            throw new InvalidDataException($"{path}: manifest format version {version}; this library reads version {Version}.");
        long generation = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
        if (generation < 0) throw new InvalidDataException($"{path}: negative checkpoint generation {generation}.");
        try
        {
            return (RecordCodec.DecodeSchema(bytes.AsSpan(16, bytes.Length - 24)), generation);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
