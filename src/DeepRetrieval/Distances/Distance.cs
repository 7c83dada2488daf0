using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Distances;

/// <summary>
/// Vectorised distance kernels (AVX-512 or AVX2 where the CPU has them, a portable path otherwise).
/// <see cref="ScalarDistance"/> computes the same values one component at a time; tests hold the two against each other.
/// </summary>
public static class Distance
{
    /// <summary>Squared Euclidean distance <c>Σ (xᵢ − yᵢ)²</c>.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, same length as <paramref name="x"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredL2(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x.Length, y.Length);
        return SquaredL2Unchecked(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>Inner product <c>Σ xᵢ yᵢ</c>.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, same length as <paramref name="x"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float InnerProduct(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x.Length, y.Length);
        return InnerProductUnchecked(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>Cosine similarity <c>x·y / (‖x‖ ‖y‖)</c>; 0 when either vector is zero.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, same length as <paramref name="x"/>.</param>
    public static float Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x.Length, y.Length);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        // One pass accumulating x·y, ‖x‖² and ‖y‖² together, so each vector is read once.
        int i = 0;
        float dot = 0f, nx = 0f, ny = 0f;
        if (Vector512.IsHardwareAccelerated && x.Length >= 16)
        {
            Vector512<float> d = Vector512<float>.Zero, a = Vector512<float>.Zero, b = Vector512<float>.Zero;
            for (; i <= x.Length - 16; i += 16)
            {
                Vector512<float> u = Vector512.LoadUnsafe(ref xr, (nuint)i), v = Vector512.LoadUnsafe(ref yr, (nuint)i);
                d = Vector512.FusedMultiplyAdd(u, v, d);
                a = Vector512.FusedMultiplyAdd(u, u, a);
                b = Vector512.FusedMultiplyAdd(v, v, b);
            }
            (dot, nx, ny) = (Vector512.Sum(d), Vector512.Sum(a), Vector512.Sum(b));
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            Vector256<float> d = Vector256<float>.Zero, a = Vector256<float>.Zero, b = Vector256<float>.Zero;
            for (; i <= x.Length - 8; i += 8)
            {
                Vector256<float> u = Vector256.LoadUnsafe(ref xr, (nuint)i), v = Vector256.LoadUnsafe(ref yr, (nuint)i);
                d = Vector256.FusedMultiplyAdd(u, v, d);
                a = Vector256.FusedMultiplyAdd(u, u, a);
                b = Vector256.FusedMultiplyAdd(v, v, b);
            }
            (dot, nx, ny) = (Vector256.Sum(d), Vector256.Sum(a), Vector256.Sum(b));
        }
        for (; i < x.Length; i++)
        {
            float u = Unsafe.Add(ref xr, i), v = Unsafe.Add(ref yr, i);
            dot += u * v;
            nx += u * u;
            ny += v * v;
        }
        float denominator = MathF.Sqrt(nx) * MathF.Sqrt(ny);
        return denominator == 0f ? 0f : dot / denominator;
    }

    /// <summary>Hamming distance between two packed bit strings: the number of differing bits.</summary>
    /// <param name="x">First code, 8 bits per byte.</param>
    /// <param name="y">Second code, same length as <paramref name="x"/>.</param>
    public static int Hamming(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        CheckLengths(x.Length, y.Length);
        int i = 0, count = 0;
        ref byte xr = ref MemoryMarshal.GetReference(x);
        ref byte yr = ref MemoryMarshal.GetReference(y);
        // 64-bit words with hardware popcount; the JIT emits POPCNT on x64 and CNT on Arm64.
        for (; i <= x.Length - 8; i += 8)
        {
            ulong a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref xr, i));
            ulong b = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref yr, i));
            count += BitOperations.PopCount(a ^ b);
        }
        for (; i < x.Length; i++)
            count += BitOperations.PopCount((uint)(Unsafe.Add(ref xr, i) ^ Unsafe.Add(ref yr, i)));
        return count;
    }

    /// <summary>The value an index with <paramref name="metric"/> reports for the pair (a distance or a similarity).</summary>
    /// <param name="metric">The metric.</param>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector.</param>
    public static float Compute(Metric metric, ReadOnlySpan<float> x, ReadOnlySpan<float> y) => metric switch
    {
        Metric.L2 => SquaredL2(x, y),
        Metric.InnerProduct => InnerProduct(x, y),
        Metric.Cosine => Cosine(x, y),
        Metric.Hamming => throw new ArgumentException("Metric.Hamming compares binary codes, not float vectors; use Distance.Hamming on packed codes.", nameof(metric)),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
    };

    internal static void CheckLengths(int x, int y)
    {
        if (x != y)
            throw new ArgumentException($"Vectors must have the same dimension; got {x} and {y}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float SquaredL2Unchecked(ref float x, ref float y, int length)
    {
        int i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= length - 32; i += 32)
            {
                Vector512<float> d0 = Vector512.LoadUnsafe(ref x, (nuint)i) - Vector512.LoadUnsafe(ref y, (nuint)i);
                Vector512<float> d1 = Vector512.LoadUnsafe(ref x, (nuint)(i + 16)) - Vector512.LoadUnsafe(ref y, (nuint)(i + 16));
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
            }
            if (i <= length - 16)
            {
                Vector512<float> d = Vector512.LoadUnsafe(ref x, (nuint)i) - Vector512.LoadUnsafe(ref y, (nuint)i);
                acc0 = Vector512.FusedMultiplyAdd(d, d, acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && length >= 8)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= length - 16; i += 16)
            {
                Vector256<float> d0 = Vector256.LoadUnsafe(ref x, (nuint)i) - Vector256.LoadUnsafe(ref y, (nuint)i);
                Vector256<float> d1 = Vector256.LoadUnsafe(ref x, (nuint)(i + 8)) - Vector256.LoadUnsafe(ref y, (nuint)(i + 8));
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
            }
            if (i <= length - 8)
            {
                Vector256<float> d = Vector256.LoadUnsafe(ref x, (nuint)i) - Vector256.LoadUnsafe(ref y, (nuint)i);
                acc0 = Vector256.FusedMultiplyAdd(d, d, acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0f;
        }
        for (; i < length; i++)
        {
            float d = Unsafe.Add(ref x, i) - Unsafe.Add(ref y, i);
            sum += d * d;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float InnerProductUnchecked(ref float x, ref float y, int length)
    {
        int i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= length - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), Vector512.LoadUnsafe(ref y, (nuint)(i + 16)), acc1);
            }
            if (i <= length - 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && length >= 8)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= length - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), Vector256.LoadUnsafe(ref y, (nuint)(i + 8)), acc1);
            }
            if (i <= length - 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0f;
        }
        for (; i < length; i++)
            sum += Unsafe.Add(ref x, i) * Unsafe.Add(ref y, i);
        return sum;
    }
    // Four rows against one query: four independent load streams keep more cache misses in flight than one row at a
    // time, which is what bounds a graph search over rows that live in L3 or memory. Each row is summed exactly as
    // SquaredL2Unchecked sums it (two accumulators, the odd 16-float block into the first, the rest scalar), so a
    // distance does not depend on which kernel computed it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> SquaredL2Unchecked4(ref float x, ref float y0, ref float y1, ref float y2, ref float y3, int length)
    {
        if (!Vector512.IsHardwareAccelerated || length < 16)
            return Vector128.Create(SquaredL2Unchecked(ref x, ref y0, length), SquaredL2Unchecked(ref x, ref y1, length),
                SquaredL2Unchecked(ref x, ref y2, length), SquaredL2Unchecked(ref x, ref y3, length));
        Vector512<float> a0 = Vector512<float>.Zero, b0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero, b1 = Vector512<float>.Zero;
        Vector512<float> a2 = Vector512<float>.Zero, b2 = Vector512<float>.Zero, a3 = Vector512<float>.Zero, b3 = Vector512<float>.Zero;
        int i = 0;
        for (; i <= length - 32; i += 32)
        {
            Vector512<float> q = Vector512.LoadUnsafe(ref x, (nuint)i), r = Vector512.LoadUnsafe(ref x, (nuint)(i + 16));
            Vector512<float> d = q - Vector512.LoadUnsafe(ref y0, (nuint)i), e = r - Vector512.LoadUnsafe(ref y0, (nuint)(i + 16));
            a0 = Vector512.FusedMultiplyAdd(d, d, a0);
            b0 = Vector512.FusedMultiplyAdd(e, e, b0);
            d = q - Vector512.LoadUnsafe(ref y1, (nuint)i);
            e = r - Vector512.LoadUnsafe(ref y1, (nuint)(i + 16));
            a1 = Vector512.FusedMultiplyAdd(d, d, a1);
            b1 = Vector512.FusedMultiplyAdd(e, e, b1);
            d = q - Vector512.LoadUnsafe(ref y2, (nuint)i);
            e = r - Vector512.LoadUnsafe(ref y2, (nuint)(i + 16));
            a2 = Vector512.FusedMultiplyAdd(d, d, a2);
            b2 = Vector512.FusedMultiplyAdd(e, e, b2);
            d = q - Vector512.LoadUnsafe(ref y3, (nuint)i);
            e = r - Vector512.LoadUnsafe(ref y3, (nuint)(i + 16));
            a3 = Vector512.FusedMultiplyAdd(d, d, a3);
            b3 = Vector512.FusedMultiplyAdd(e, e, b3);
        }
        if (i <= length - 16)
        {
            Vector512<float> q = Vector512.LoadUnsafe(ref x, (nuint)i);
            Vector512<float> d = q - Vector512.LoadUnsafe(ref y0, (nuint)i);
            a0 = Vector512.FusedMultiplyAdd(d, d, a0);
            d = q - Vector512.LoadUnsafe(ref y1, (nuint)i);
            a1 = Vector512.FusedMultiplyAdd(d, d, a1);
            d = q - Vector512.LoadUnsafe(ref y2, (nuint)i);
            a2 = Vector512.FusedMultiplyAdd(d, d, a2);
            d = q - Vector512.LoadUnsafe(ref y3, (nuint)i);
            a3 = Vector512.FusedMultiplyAdd(d, d, a3);
            i += 16;
        }
        float s0 = Vector512.Sum(a0 + b0), s1 = Vector512.Sum(a1 + b1), s2 = Vector512.Sum(a2 + b2), s3 = Vector512.Sum(a3 + b3);
        for (; i < length; i++)
        {
            float q = Unsafe.Add(ref x, i);
            float d0 = q - Unsafe.Add(ref y0, i), d1 = q - Unsafe.Add(ref y1, i), d2 = q - Unsafe.Add(ref y2, i), d3 = q - Unsafe.Add(ref y3, i);
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        return Vector128.Create(s0, s1, s2, s3);
    }

    // The inner-product counterpart of SquaredL2Unchecked4, summed as InnerProductUnchecked sums.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> InnerProductUnchecked4(ref float x, ref float y0, ref float y1, ref float y2, ref float y3, int length)
    {
        if (!Vector512.IsHardwareAccelerated || length < 16)
            return Vector128.Create(InnerProductUnchecked(ref x, ref y0, length), InnerProductUnchecked(ref x, ref y1, length),
                InnerProductUnchecked(ref x, ref y2, length), InnerProductUnchecked(ref x, ref y3, length));
        Vector512<float> a0 = Vector512<float>.Zero, b0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero, b1 = Vector512<float>.Zero;
        Vector512<float> a2 = Vector512<float>.Zero, b2 = Vector512<float>.Zero, a3 = Vector512<float>.Zero, b3 = Vector512<float>.Zero;
        int i = 0;
        for (; i <= length - 32; i += 32)
        {
            Vector512<float> q = Vector512.LoadUnsafe(ref x, (nuint)i), r = Vector512.LoadUnsafe(ref x, (nuint)(i + 16));
            a0 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y0, (nuint)i), a0);
            b0 = Vector512.FusedMultiplyAdd(r, Vector512.LoadUnsafe(ref y0, (nuint)(i + 16)), b0);
            a1 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y1, (nuint)i), a1);
            b1 = Vector512.FusedMultiplyAdd(r, Vector512.LoadUnsafe(ref y1, (nuint)(i + 16)), b1);
            a2 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y2, (nuint)i), a2);
            b2 = Vector512.FusedMultiplyAdd(r, Vector512.LoadUnsafe(ref y2, (nuint)(i + 16)), b2);
            a3 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y3, (nuint)i), a3);
            b3 = Vector512.FusedMultiplyAdd(r, Vector512.LoadUnsafe(ref y3, (nuint)(i + 16)), b3);
        }
        if (i <= length - 16)
        {
            Vector512<float> q = Vector512.LoadUnsafe(ref x, (nuint)i);
            a0 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y0, (nuint)i), a0);
            a1 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y1, (nuint)i), a1);
            a2 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y2, (nuint)i), a2);
            a3 = Vector512.FusedMultiplyAdd(q, Vector512.LoadUnsafe(ref y3, (nuint)i), a3);
            i += 16;
        }
        float s0 = Vector512.Sum(a0 + b0), s1 = Vector512.Sum(a1 + b1), s2 = Vector512.Sum(a2 + b2), s3 = Vector512.Sum(a3 + b3);
        for (; i < length; i++)
        {
            float q = Unsafe.Add(ref x, i);
            s0 += q * Unsafe.Add(ref y0, i);
            s1 += q * Unsafe.Add(ref y1, i);
            s2 += q * Unsafe.Add(ref y2, i);
            s3 += q * Unsafe.Add(ref y3, i);
        }
        return Vector128.Create(s0, s1, s2, s3);
    }
}
