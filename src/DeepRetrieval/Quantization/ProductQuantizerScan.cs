using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    /// <summary>Two sub-quantizers per byte (the first in the low nibble); table rows of 16 entries.</summary>
    public static void Scan4(ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> distances, int m)
    {
        ref float t = ref MemoryMarshal.GetReference(table);
        ref byte c = ref MemoryMarshal.GetReference(codes);
        int codeSize = (m + 1) >> 1, pairs = m >> 1;
        for (int i = 0; i < distances.Length; i++)
        {
            ref byte code = ref Unsafe.Add(ref c, (nint)i * codeSize);
            float low = 0f, high = 0f;
            for (int j = 0; j < pairs; j++)
            {
                int b = Unsafe.Add(ref code, j);
                low += Unsafe.Add(ref t, (j << 5) + (b & 15));
                high += Unsafe.Add(ref t, (j << 5) + 16 + (b >> 4));
            }
            if ((m & 1) != 0) low += Unsafe.Add(ref t, (pairs << 5) + (Unsafe.Add(ref code, pairs) & 15));
            distances[i] = low + high;
        }
    }
}
