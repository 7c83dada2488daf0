using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeepRetrieval.Quantization;

/// <summary>
/// ADC scan kernels: sum M table entries per code. A lookup depends on a code byte load, so the sums are limited by
/// load throughput and add latency rather than arithmetic; several codes are summed at once so that their
/// independent accumulators keep the adder busy. Gathers were not faster than scalar lookups here.
/// </summary>
internal static class ProductQuantizerScan
{
    /// <summary>One byte per sub-quantizer; table rows of 256 entries.</summary>
    public static void Scan8(ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> distances, int m)
    {
        ref float t = ref MemoryMarshal.GetReference(table);
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref float d = ref MemoryMarshal.GetReference(distances);
        int n = distances.Length, i = 0;
        for (; i <= n - 4; i += 4)
        {
            ref byte c0 = ref Unsafe.Add(ref c, (nint)i * m);
            ref byte c1 = ref Unsafe.Add(ref c0, m);
            ref byte c2 = ref Unsafe.Add(ref c1, m);
            ref byte c3 = ref Unsafe.Add(ref c2, m);
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            float b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
            int j = 0;
            for (; j <= m - 2; j += 2)
            {
                ref float r0 = ref Unsafe.Add(ref t, j << 8);
                ref float r1 = ref Unsafe.Add(ref r0, 256);
                a0 += Unsafe.Add(ref r0, Unsafe.Add(ref c0, j));
                a1 += Unsafe.Add(ref r0, Unsafe.Add(ref c1, j));
                a2 += Unsafe.Add(ref r0, Unsafe.Add(ref c2, j));
                a3 += Unsafe.Add(ref r0, Unsafe.Add(ref c3, j));
                b0 += Unsafe.Add(ref r1, Unsafe.Add(ref c0, j + 1));
                b1 += Unsafe.Add(ref r1, Unsafe.Add(ref c1, j + 1));
                b2 += Unsafe.Add(ref r1, Unsafe.Add(ref c2, j + 1));
                b3 += Unsafe.Add(ref r1, Unsafe.Add(ref c3, j + 1));
            }
            if (j < m)
            {
                ref float r0 = ref Unsafe.Add(ref t, j << 8);
                a0 += Unsafe.Add(ref r0, Unsafe.Add(ref c0, j));
                a1 += Unsafe.Add(ref r0, Unsafe.Add(ref c1, j));
                a2 += Unsafe.Add(ref r0, Unsafe.Add(ref c2, j));
                a3 += Unsafe.Add(ref r0, Unsafe.Add(ref c3, j));
            }
            Unsafe.Add(ref d, i) = a0 + b0;
            Unsafe.Add(ref d, i + 1) = a1 + b1;
            Unsafe.Add(ref d, i + 2) = a2 + b2;
            Unsafe.Add(ref d, i + 3) = a3 + b3;
        }
        for (; i < n; i++)
        {
            ref byte c0 = ref Unsafe.Add(ref c, (nint)i * m);
            float a0 = 0f, b0 = 0f;
            int j = 0;
            for (; j <= m - 2; j += 2)
            {
                a0 += Unsafe.Add(ref t, (j << 8) + Unsafe.Add(ref c0, j));
                b0 += Unsafe.Add(ref t, ((j + 1) << 8) + Unsafe.Add(ref c0, j + 1));
            }
            if (j < m) a0 += Unsafe.Add(ref t, (j << 8) + Unsafe.Add(ref c0, j));
            Unsafe.Add(ref d, i) = a0 + b0;
        }
    }

    /// <summary>Two sub-quantizers per byte (the first in the low nibble); table rows of 16 entries. Four codes at a time, as <see cref="Scan8"/>.</summary>
    public static void Scan4(ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> distances, int m)
    {
        ref float t = ref MemoryMarshal.GetReference(table);
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref float d = ref MemoryMarshal.GetReference(distances);
        int codeSize = (m + 1) >> 1, pairs = m >> 1, n = distances.Length, i = 0;
        bool odd = (m & 1) != 0;
        if (Avx512F.IsSupported) i = Scan4Avx512(ref t, ref c, ref d, n, m);
        for (; i <= n - 4; i += 4)
        {
            ref byte c0 = ref Unsafe.Add(ref c, (nint)i * codeSize);
            ref byte c1 = ref Unsafe.Add(ref c0, codeSize);
            ref byte c2 = ref Unsafe.Add(ref c1, codeSize);
            ref byte c3 = ref Unsafe.Add(ref c2, codeSize);
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            float b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
            for (int j = 0; j < pairs; j++)
            {
                ref float low = ref Unsafe.Add(ref t, j << 5);
                ref float high = ref Unsafe.Add(ref low, 16);
                int v0 = Unsafe.Add(ref c0, j), v1 = Unsafe.Add(ref c1, j), v2 = Unsafe.Add(ref c2, j), v3 = Unsafe.Add(ref c3, j);
                a0 += Unsafe.Add(ref low, v0 & 15);
                a1 += Unsafe.Add(ref low, v1 & 15);
                a2 += Unsafe.Add(ref low, v2 & 15);
                a3 += Unsafe.Add(ref low, v3 & 15);
                b0 += Unsafe.Add(ref high, v0 >> 4);
                b1 += Unsafe.Add(ref high, v1 >> 4);
                b2 += Unsafe.Add(ref high, v2 >> 4);
                b3 += Unsafe.Add(ref high, v3 >> 4);
            }
            if (odd)
            {
                ref float low = ref Unsafe.Add(ref t, pairs << 5);
                a0 += Unsafe.Add(ref low, Unsafe.Add(ref c0, pairs) & 15);
                a1 += Unsafe.Add(ref low, Unsafe.Add(ref c1, pairs) & 15);
                a2 += Unsafe.Add(ref low, Unsafe.Add(ref c2, pairs) & 15);
                a3 += Unsafe.Add(ref low, Unsafe.Add(ref c3, pairs) & 15);
            }
            Unsafe.Add(ref d, i) = a0 + b0;
            Unsafe.Add(ref d, i + 1) = a1 + b1;
            Unsafe.Add(ref d, i + 2) = a2 + b2;
            Unsafe.Add(ref d, i + 3) = a3 + b3;
        }
        for (; i < n; i++)
        {
            ref byte code = ref Unsafe.Add(ref c, (nint)i * codeSize);
            float low = 0f, high = 0f;
            for (int j = 0; j < pairs; j++)
            {
                int b = Unsafe.Add(ref code, j);
                low += Unsafe.Add(ref t, (j << 5) + (b & 15));
                high += Unsafe.Add(ref t, (j << 5) + 16 + (b >> 4));
            }
            if (odd) low += Unsafe.Add(ref t, (pairs << 5) + (Unsafe.Add(ref code, pairs) & 15));
            Unsafe.Add(ref d, i) = low + high;
        }
    }

    // Sixteen codes at a time: a table row of 16 floats is one register, so one vpermps looks up a sub-quantizer's
    // entries for 16 codes. Lanes sum in the scalar loop's order (even sub-quantizers, odd ones, then the two), so
    // the distances are bit-identical to it. Returns how many codes it scanned (a multiple of 16).
    private static int Scan4Avx512(ref float t, ref byte c, ref float d, int n, int m)
    {
        int codeSize = (m + 1) >> 1, pairs = m >> 1, i = 0;
        Vector512<int> nibble = Vector512.Create(15);
        for (; i <= n - 16; i += 16)
        {
            ref byte block = ref Unsafe.Add(ref c, (nint)i * codeSize);
            Vector512<float> even = Vector512<float>.Zero, odd = Vector512<float>.Zero;
            int j = 0;
            for (; j <= pairs - 4; j += 4)
            {
                Vector512<int> words = Strided16(ref Unsafe.Add(ref block, j), codeSize, word: true);
                for (int b = 0; b < 4; b++)
                {
                    ref float row = ref Unsafe.Add(ref t, (j + b) << 5);
                    Vector512<int> bits = Vector512.ShiftRightLogical(words, 8 * b);
                    even += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref row), bits & nibble);
                    odd += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref row, 16), Vector512.ShiftRightLogical(bits, 4) & nibble);
                }
            }
            for (; j < pairs; j++)
            {
                ref float row = ref Unsafe.Add(ref t, j << 5);
                Vector512<int> bits = Strided16(ref Unsafe.Add(ref block, j), codeSize, word: false);
                even += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref row), bits & nibble);
                odd += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref row, 16), Vector512.ShiftRightLogical(bits, 4));
            }
            if (pairs < codeSize)
            {
                Vector512<int> bits = Strided16(ref Unsafe.Add(ref block, pairs), codeSize, word: false);
                even += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref Unsafe.Add(ref t, pairs << 5)), bits & nibble);
            }
            (even + odd).StoreUnsafe(ref d, (nuint)i);
        }
        return i;
    }

    // Sixteen codes' 4-byte words (or single bytes) starting `stride` bytes apart; whole words stay inside a code.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Strided16(ref byte first, int stride, bool word)
    {
        if (!word)
            return Vector512.Create(Byte(ref first, 0), Byte(ref first, stride), Byte(ref first, 2 * stride), Byte(ref first, 3 * stride),
                Byte(ref first, 4 * stride), Byte(ref first, 5 * stride), Byte(ref first, 6 * stride), Byte(ref first, 7 * stride),
                Byte(ref first, 8 * stride), Byte(ref first, 9 * stride), Byte(ref first, 10 * stride), Byte(ref first, 11 * stride),
                Byte(ref first, 12 * stride), Byte(ref first, 13 * stride), Byte(ref first, 14 * stride), Byte(ref first, 15 * stride));
        return Vector512.Create(Word(ref first, 0), Word(ref first, stride), Word(ref first, 2 * stride), Word(ref first, 3 * stride),
            Word(ref first, 4 * stride), Word(ref first, 5 * stride), Word(ref first, 6 * stride), Word(ref first, 7 * stride),
            Word(ref first, 8 * stride), Word(ref first, 9 * stride), Word(ref first, 10 * stride), Word(ref first, 11 * stride),
            Word(ref first, 12 * stride), Word(ref first, 13 * stride), Word(ref first, 14 * stride), Word(ref first, 15 * stride));

        static int Byte(ref byte at, int offset) => Unsafe.Add(ref at, offset);
        static int Word(ref byte at, int offset) => Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref at, offset));
    }

    /// <summary>
    /// Fills an ADC table from centroids stored [M][dsub][ksub]: each register holds one component of 16 (or 8)
    /// consecutive centroids, so a table entry's dsub terms accumulate in a register instead of through memory.
    /// False when no vector unit of a width dividing ksub is available (the caller then uses TensorPrimitives).
    /// </summary>
    public static bool TryTable(ReadOnlySpan<float> byComponent, ReadOnlySpan<float> query, Span<float> table, int m, int dsub, int ksub, bool l2)
    {
        ref float c = ref MemoryMarshal.GetReference(byComponent);
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float t = ref MemoryMarshal.GetReference(table);
        if (Vector512.IsHardwareAccelerated && ksub % (4 * Vector512<float>.Count) == 0)
        {
            // Four independent accumulators: one chain of dsub multiply-adds would wait on the adder's latency.
            for (int s = 0; s < m; s++)
            {
                ref float block = ref Unsafe.Add(ref c, s * dsub * ksub);
                ref float sub = ref Unsafe.Add(ref q, s * dsub);
                for (int first = 0; first < ksub; first += 4 * Vector512<float>.Count)
                {
                    Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                    for (int j = 0; j < dsub; j++)
                    {
                        ref float row = ref Unsafe.Add(ref block, j * ksub + first);
                        Vector512<float> c0 = Vector512.LoadUnsafe(ref row);
                        Vector512<float> c1 = Vector512.LoadUnsafe(ref row, 16);
                        Vector512<float> c2 = Vector512.LoadUnsafe(ref row, 32);
                        Vector512<float> c3 = Vector512.LoadUnsafe(ref row, 48);
                        Vector512<float> x = Vector512.Create(Unsafe.Add(ref sub, j));
                        if (l2)
                        {
                            c0 -= x;
                            c1 -= x;
                            c2 -= x;
                            c3 -= x;
                            a0 = Vector512.FusedMultiplyAdd(c0, c0, a0);
                            a1 = Vector512.FusedMultiplyAdd(c1, c1, a1);
                            a2 = Vector512.FusedMultiplyAdd(c2, c2, a2);
                            a3 = Vector512.FusedMultiplyAdd(c3, c3, a3);
                        }
                        else
                        {
                            a0 = Vector512.FusedMultiplyAdd(c0, x, a0);
                            a1 = Vector512.FusedMultiplyAdd(c1, x, a1);
                            a2 = Vector512.FusedMultiplyAdd(c2, x, a2);
                            a3 = Vector512.FusedMultiplyAdd(c3, x, a3);
                        }
                    }
                    ref float target = ref Unsafe.Add(ref t, s * ksub + first);
                    a0.StoreUnsafe(ref target);
                    a1.StoreUnsafe(ref target, 16);
                    a2.StoreUnsafe(ref target, 32);
                    a3.StoreUnsafe(ref target, 48);
                }
            }
            return true;
        }
        if (Vector512.IsHardwareAccelerated && ksub % Vector512<float>.Count == 0)
        {
            for (int s = 0; s < m; s++)
            {
                ref float block = ref Unsafe.Add(ref c, s * dsub * ksub);
                ref float sub = ref Unsafe.Add(ref q, s * dsub);
                for (int first = 0; first < ksub; first += Vector512<float>.Count)
                {
                    Vector512<float> acc = Vector512<float>.Zero;
                    for (int j = 0; j < dsub; j++)
                    {
                        Vector512<float> centroid = Vector512.LoadUnsafe(ref block, (nuint)(j * ksub + first));
                        Vector512<float> x = Vector512.Create(Unsafe.Add(ref sub, j));
                        if (l2)
                        {
                            Vector512<float> diff = centroid - x;
                            acc = Vector512.FusedMultiplyAdd(diff, diff, acc);
                        }
                        else
                        {
                            acc = Vector512.FusedMultiplyAdd(centroid, x, acc);
                        }
                    }
                    acc.StoreUnsafe(ref t, (nuint)(s * ksub + first));
                }
            }
            return true;
        }
        if (Vector256.IsHardwareAccelerated && ksub % Vector256<float>.Count == 0)
        {
            for (int s = 0; s < m; s++)
            {
                ref float block = ref Unsafe.Add(ref c, s * dsub * ksub);
                ref float sub = ref Unsafe.Add(ref q, s * dsub);
                for (int first = 0; first < ksub; first += Vector256<float>.Count)
                {
                    Vector256<float> acc = Vector256<float>.Zero;
                    for (int j = 0; j < dsub; j++)
                    {
                        Vector256<float> centroid = Vector256.LoadUnsafe(ref block, (nuint)(j * ksub + first));
                        Vector256<float> x = Vector256.Create(Unsafe.Add(ref sub, j));
                        if (l2)
                        {
                            Vector256<float> diff = centroid - x;
                            acc = Vector256.FusedMultiplyAdd(diff, diff, acc);
                        }
                        else
                        {
                            acc = Vector256.FusedMultiplyAdd(centroid, x, acc);
                        }
                    }
                    acc.StoreUnsafe(ref t, (nuint)(s * ksub + first));
                }
            }
            return true;
        }
        return false;
    }
}
