using System.Buffers.Binary;
using System.Text;

namespace DeepRetrieval.Fuzz;

/// <summary>
/// Deterministic structure-blind mutations in the style of AFL's havoc stage: bit flips, interesting bytes and integers written
/// over length fields (both byte orders), small arithmetic on 32-bit fields, truncation, deletion, duplication and insertion of
/// chunks, splicing with another corpus entry, and replacing a decimal number in text (JSON, npy headers) with an extreme one.
/// Positions favour the first 4 KiB and the last 1 KiB, where the headers, trailers and zip directories of the formats live.
/// The same seed gives the same sequence of inputs.
/// </summary>
internal sealed class Mutator(ulong seed)
{
    private static readonly byte[] InterestingBytes = [0, 1, 0x7f, 0x80, 0xff, 16, 32, 64, 100];

    private static readonly long[] InterestingIntegers =
    [
        0, 1, -1, 2, 3, 7, 8, 16, 255, 256, 4096, 65535, 65536, int.MaxValue, int.MinValue, (long)int.MaxValue + 1,
        uint.MaxValue, 1L << 32, 1L << 40, 1L << 62, long.MaxValue, long.MinValue, 1_000_000, 100_000_001,
    ];

    private static readonly string[] InterestingNumbers =
    [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483648", "4294967296", "1099511627776", "4611686018427387904",
        "9223372036854775807", "99999999999999999999", "1e300", "-1e300", "1e-300", "1.5", "NaN", "3", "65536", "1000000",
    ];

    private ulong _state = seed ^ 0x9E3779B97F4A7C15UL;

    /// <summary>
    /// A mutated copy of <paramref name="parent"/>; <paramref name="corpus"/> supplies splice partners. Only the first
    /// <paramref name="mutableLength"/> bytes are mutated (all by default); the rest is kept after them as it is.
    /// </summary>
    public byte[] Mutate(byte[] parent, IReadOnlyList<byte[]> corpus, int? mutableLength = null)
    {
        int head = Math.Clamp(mutableLength ?? parent.Length, 0, parent.Length);
        var data = new List<byte>(parent.AsSpan(0, head).ToArray());
        int rounds = 1 + Below(1 << Below(4));
        for (int round = 0; round < rounds; round++)
            MutateOnce(data, corpus);
        data.AddRange(parent.AsSpan(head).ToArray());
        return [.. data];
    }

    /// <summary>A uniformly drawn integer in [0, <paramref name="bound"/>).</summary>
    public int Below(int bound) => bound <= 1 ? 0 : (int)(Next() % (ulong)bound);

    private void MutateOnce(List<byte> data, IReadOnlyList<byte[]> corpus)
    {
        if (data.Count == 0)
        {
            data.Add((byte)Next());
            return;
        }
        switch (Below(12))
        {
            case 0:
                {
                    int at = Position(data.Count);
                    data[at] ^= (byte)(1 << Below(8));
                    break;
                }
            case 1:
                data[Position(data.Count)] = (byte)Next();
                break;
            case 2:
                data[Position(data.Count)] = InterestingBytes[Below(InterestingBytes.Length)];
                break;
            case 3:
            case 4:
                WriteInteger(data, InterestingIntegers[Below(InterestingIntegers.Length)], bigEndian: Below(4) == 0);
                break;
            case 5:
                {
                    // Off-by-a-little on a 32-bit little-endian field (counts, lengths, offsets).
                    int at = Position(data.Count);
                    if (at + 4 > data.Count) break;
                    Span<byte> field = stackalloc byte[4];
                    for (int i = 0; i < 4; i++) field[i] = data[at + i];
                    int value = BinaryPrimitives.ReadInt32LittleEndian(field) + Below(33) - 16;
                    BinaryPrimitives.WriteInt32LittleEndian(field, value);
                    for (int i = 0; i < 4; i++) data[at + i] = field[i];
                    break;
                }
            case 6:
                {
                    int at = Position(data.Count);
                    data.RemoveRange(at, data.Count - at);
                    break;
                }
            case 7:
                {
                    int at = Position(data.Count);
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + Below(32)));
                    break;
                }
            case 8:
                {
                    int at = Position(data.Count);
                    int length = Math.Min(data.Count - at, 1 + Below(64));
                    data.InsertRange(Position(data.Count), data.GetRange(at, length));
                    break;
                }
            case 9:
                {
                    var random = new byte[1 + Below(16)];
                    for (int i = 0; i < random.Length; i++) random[i] = (byte)Next();
                    data.InsertRange(Position(data.Count), random);
                    break;
                }
            case 10:
                {
                    byte[] other = corpus[Below(corpus.Count)];
                    if (other.Length == 0) break;
                    int cut = Position(data.Count);
                    int from = Position(other.Length);
                    data.RemoveRange(cut, data.Count - cut);
                    data.AddRange(other.AsSpan(from).ToArray());
                    break;
                }
            default:
                ReplaceNumber(data);
                break;
        }
    }

    private void WriteInteger(List<byte> data, long value, bool bigEndian)
    {
        int width = 1 << (1 + Below(3));
        int at = Position(data.Count);
        if (at + width > data.Count) at = Math.Max(0, data.Count - width);
        Span<byte> bytes = stackalloc byte[8];
        if (bigEndian) BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        else BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        ReadOnlySpan<byte> field = bigEndian ? bytes[(8 - width)..] : bytes[..width];
        for (int i = 0; i < width && at + i < data.Count; i++) data[at + i] = field[i];
    }

    // A run of ASCII digits near a random position becomes one of the extreme literals (JSON configs, npy shape tuples).
    private void ReplaceNumber(List<byte> data)
    {
        int start = Position(data.Count);
        int limit = Math.Min(data.Count, start + 4096);
        while (start < limit && !IsDigit(data[start])) start++;
        if (start >= limit) return;
        int end = start;
        while (end < data.Count && (IsDigit(data[end]) || data[end] is (byte)'.' or (byte)'e' or (byte)'-')) end++;
        if (start > 0 && data[start - 1] == (byte)'-') start--;
        data.RemoveRange(start, end - start);
        data.InsertRange(start, Encoding.ASCII.GetBytes(InterestingNumbers[Below(InterestingNumbers.Length)]));
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private int Position(int length)
    {
        int region = Below(20);
        if (region < 12) return Below(Math.Min(length, 4096));
        if (region < 15) return length - 1 - Below(Math.Min(length, 1024));
        return Below(length);
    }

    // SplitMix64: fast, and the same on every platform.
    private ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
