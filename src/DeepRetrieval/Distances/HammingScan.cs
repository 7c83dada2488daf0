using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeepRetrieval.Distances;

/// <summary>
/// Hamming distances from one query code to a block of stored codes, for exhaustive binary search. Codes are read as
/// 64-bit words and counted with the hardware popcount (POPCNT on x64, CNT on Arm64); the common code sizes (8, 16,
/// 32 and 64 bytes) have unrolled loops with the query held in registers, as Faiss's <c>HammingComputer</c>s do.
/// </summary>
/// <remarks>.NET 10 exposes no AVX-512 VPOPCNTQ, and a byte-shuffle popcount does not beat four scalar POPCNTs on a 32-byte code.</remarks>
internal static class HammingScan
{
    /// <summary>Writes the distance from <paramref name="query"/> to each code of <paramref name="codes"/> (consecutive codes of the query's length).</summary>
    public static void Distances(ReadOnlySpan<byte> query, ReadOnlySpan<byte> codes, Span<int> distances)
    {
        int codeSize = query.Length;
        int count = codes.Length / codeSize;
        ref byte q = ref MemoryMarshal.GetReference(query);
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref int d = ref MemoryMarshal.GetReference(distances);
        switch (codeSize)
        {
            case 8:
            {
                ulong q0 = Word(ref q, 0);
                for (int i = 0; i < count; i++)
                    Unsafe.Add(ref d, i) = BitOperations.PopCount(q0 ^ Word(ref c, i * 8));
                return;
            }
            case 16:
            {
                ulong q0 = Word(ref q, 0), q1 = Word(ref q, 8);
                for (int i = 0; i < count; i++)
                {
                    int at = i * 16;
                    Unsafe.Add(ref d, i) = BitOperations.PopCount(q0 ^ Word(ref c, at)) + BitOperations.PopCount(q1 ^ Word(ref c, at + 8));
                }
                return;
            }
            case 32:
            {
                ulong q0 = Word(ref q, 0), q1 = Word(ref q, 8), q2 = Word(ref q, 16), q3 = Word(ref q, 24);
                for (int i = 0; i < count; i++)
                {
                    int at = i * 32;
                    Unsafe.Add(ref d, i) =
                        BitOperations.PopCount(q0 ^ Word(ref c, at)) + BitOperations.PopCount(q1 ^ Word(ref c, at + 8)) +
                        BitOperations.PopCount(q2 ^ Word(ref c, at + 16)) + BitOperations.PopCount(q3 ^ Word(ref c, at + 24));
                }
                return;
            }
            case 64:
            {
                ulong q0 = Word(ref q, 0), q1 = Word(ref q, 8), q2 = Word(ref q, 16), q3 = Word(ref q, 24);
                ulong q4 = Word(ref q, 32), q5 = Word(ref q, 40), q6 = Word(ref q, 48), q7 = Word(ref q, 56);
                for (int i = 0; i < count; i++)
                {
                    int at = i * 64;
                    Unsafe.Add(ref d, i) =
                        BitOperations.PopCount(q0 ^ Word(ref c, at)) + BitOperations.PopCount(q1 ^ Word(ref c, at + 8)) +
                        BitOperations.PopCount(q2 ^ Word(ref c, at + 16)) + BitOperations.PopCount(q3 ^ Word(ref c, at + 24)) +
                        BitOperations.PopCount(q4 ^ Word(ref c, at + 32)) + BitOperations.PopCount(q5 ^ Word(ref c, at + 40)) +
                        BitOperations.PopCount(q6 ^ Word(ref c, at + 48)) + BitOperations.PopCount(q7 ^ Word(ref c, at + 56));
                }
                return;
            }
            default:
                for (int i = 0; i < count; i++)
                    Unsafe.Add(ref d, i) = Distance.Hamming(query, codes.Slice(i * codeSize, codeSize));
                return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Word(ref byte start, int offset) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));
}
