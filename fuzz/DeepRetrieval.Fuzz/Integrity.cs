using System.Buffers.Binary;
using System.IO.Hashing;

namespace DeepRetrieval.Fuzz;

/// <summary>
/// Re-computes the integrity fields of the formats under test, so that a mutated input reaches the parser behind them instead
/// of being rejected by the first check. Every method leaves an input it cannot make sense of unchanged.
/// </summary>
internal static class Integrity
{
    private const int IndexTrailerSize = sizeof(long) + sizeof(ulong);

    /// <summary>
    /// The DeepRetrieval index container ("DRIX", version, kind, payload, trailer): sets the trailer's payload length to what the
    /// file holds and its XxHash64 to the hash of everything before the trailer plus the length field, as the writer does.
    /// </summary>
    public static byte[] RepairIndexContainer(byte[] file)
    {
        const int fixedHeader = 4 + sizeof(uint) + 1;
        if (file.Length < fixedHeader + IndexTrailerSize || !file.AsSpan(0, 4).SequenceEqual("DRIX"u8))
            return file;
        int headerSize = fixedHeader + file[fixedHeader - 1];
        long payloadLength = file.Length - headerSize - IndexTrailerSize;
        if (payloadLength < 0)
            return file;
        int trailer = file.Length - IndexTrailerSize;
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(trailer), payloadLength);
        var hash = new XxHash64();
        hash.Append(file.AsSpan(0, trailer + sizeof(long)));
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(trailer + sizeof(long)), hash.GetCurrentHashAsUInt64());
        return file;
    }

    /// <summary>A PNG file: re-computes the CRC-32 of every chunk that fits the file.</summary>
    public static byte[] RepairPng(byte[] file)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(signature))
            return file;
        long position = 8;
        while (position + 12 <= file.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan((int)position));
            long end = position + 8 + length;
            if (end + 4 > file.Length)
                break;
            uint crc = Crc32.HashToUInt32(file.AsSpan((int)position + 4, (int)length + 4));
            BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan((int)end), crc);
            position = end + 4;
        }
        return file;
    }

    /// <summary>
    /// A safetensors file whose JSON header grew or shrank: sets the 8-byte header length to the end of the JSON object (and
    /// the spaces after it), so an edited number or name inside the header is parsed rather than rejected for the length.
    /// </summary>
    public static byte[] RepairSafeTensorsHeaderLength(byte[] file)
    {
        if (file.Length < 10 || file[8] != (byte)'{')
            return file;
        int depth = 0;
        bool inString = false;
        for (int i = 8; i < file.Length; i++)
        {
            byte b = file[i];
            if (inString)
            {
                if (b == (byte)'\\') i++;
                else if (b == (byte)'"') inString = false;
                continue;
            }
            if (b == (byte)'"') inString = true;
            else if (b == (byte)'{') depth++;
            else if (b == (byte)'}' && --depth == 0)
            {
                int end = i + 1;
                while (end < file.Length && file[end] == (byte)' ') end++;
                BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(end - 8));
                return file;
            }
        }
        return file;
    }
}
