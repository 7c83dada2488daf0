using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeepRetrieval.Quantization;

/// <summary>
/// Squared L2 between a query quantized with an SQ8 <see cref="ScalarQuantizer"/> and stored SQ8 codes of the same
/// quantizer, in integer arithmetic: <c>Unit · Σ W_j (a_j − c_j)²</c>, where <c>a</c> is the query's code widened to 16
/// bits, <c>c</c> the stored code and <c>W_j</c> a 7-bit integer weight proportional to the squared step of dimension j.
/// It approximates the distance between the two decoded vectors (exactly, when every dimension has the same range), for a
/// graph walk whose short list is re-ranked afterwards: 32 components cost one widening, one subtraction, one 16-bit
/// multiply and one multiply-add of pairs (<c>vpmaddwd</c>) instead of the float path's four instructions per 16.
/// </summary>
/// <remarks>
/// <para>Every path (AVX-512BW, AVX2, scalar) sums the same integers exactly, so they return identical keys. A dimension
/// whose squared step is below 1/254 of the largest gets weight 0: its whole range is under 1/16 of the widest one's,
/// and it moves an L2 distance by less than the rounding of the others.</para>
/// <para>Immutable after construction; thread-safe.</para>
/// </remarks>
internal sealed unsafe class Sq8IntegerL2
{
    /// <summary>The largest weight: 255 · 127 still fits a signed 16-bit product.</summary>
    public const int MaxWeight = 127;

    // Terms per 32-bit lane stay below 2^31 within a block of this many components (2 · 127 · 255² per lane and step).
    private const int BlockComponents = 2048;

    private readonly short[] _weights;      // pinned: one per component
    private readonly short[] _tail32;       // pinned: the weights of the last 32 components, 0 where the main loop covered them
    private readonly short[] _tail16;       // the same for the 256-bit path's last 16
    private readonly short* _weightBase;
    private readonly short* _tail32Base;
    private readonly short* _tail16Base;

    /// <summary>Builds the weights from the per-dimension steps (decoded = bias + code · step).</summary>
    /// <param name="steps">The quantizer's step per dimension; finite and non-negative.</param>
    public Sq8IntegerL2(ReadOnlySpan<float> steps)
    {
        int d = steps.Length;
        Dimension = d;
        // In doubles: a step read from a file may be near float.MaxValue, and its square must not become infinity.
        double largest = 0;
        foreach (float step in steps) largest = Math.Max(largest, (double)step * step);
        _weights = GC.AllocateArray<short>(d, pinned: true);
        for (int j = 0; j < d; j++)
            _weights[j] = largest > 0 ? (short)Math.Round(MaxWeight * ((double)steps[j] * steps[j] / largest)) : (short)0;
        // Keys stay finite even then: the largest possible sum times the unit is at most float.MaxValue (the walk only
        // compares keys, so capping the unit for absurd ranges keeps the order of the integer sums).
        Unit = (float)Math.Min(largest / MaxWeight, float.MaxValue / ((double)MaxWeight * 255 * 255 * Math.Max(1, d)));
        _tail32 = GC.AllocateArray<short>(32, pinned: true);
        _tail16 = GC.AllocateArray<short>(16, pinned: true);
        FillTail(_tail32, d - d % 32);
        FillTail(_tail16, d - d % 16);
        _weightBase = (short*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_weights));
        _tail32Base = (short*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_tail32));
        _tail16Base = (short*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_tail16));
    }

    /// <summary>Components per code.</summary>
    public int Dimension { get; }

    /// <summary>What one unit of the integer sum is worth in squared distance.</summary>
    public float Unit { get; }

    /// <summary>The integer weight of each component.</summary>
    public ReadOnlySpan<short> Weights => _weights;

    /// <summary>The key of one stored code: <c>Unit · Σ W_j (a_j − c_j)²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Of(short* query, byte* code) => Sum(query, code) * Unit;

    /// <summary>The keys of four stored codes, the query's blocks loaded once for all four.</summary>
    public Vector128<float> Of4(short* query, byte* code0, byte* code1, byte* code2, byte* code3)
    {
        int d = Dimension;
        if (!Avx512BW.IsSupported || d < 32)
            return Vector128.Create(Of(query, code0), Of(query, code1), Of(query, code2), Of(query, code3));
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int main = d - d % 32;
        for (int start = 0; start < main; start += BlockComponents)
        {
            int end = Math.Min(main, start + BlockComponents);
            Vector512<int> a0 = Vector512<int>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (int j = start; j < end; j += 32)
            {
                Vector512<short> q = Vector512.Load(query + j), w = Vector512.Load(_weightBase + j);
                a0 = Step512(q, w, code0 + j, a0);
                a1 = Step512(q, w, code1 + j, a1);
                a2 = Step512(q, w, code2 + j, a2);
                a3 = Step512(q, w, code3 + j, a3);
            }
            s0 += SumLanes(a0);
            s1 += SumLanes(a1);
            s2 += SumLanes(a2);
            s3 += SumLanes(a3);
        }
        if (main < d)
        {
            // The last 32 components again, weighted 0 where the loop above covered them.
            Vector512<short> q = Vector512.Load(query + d - 32), w = Vector512.Load(_tail32Base);
            s0 += SumLanes(Step512(q, w, code0 + d - 32, Vector512<int>.Zero));
            s1 += SumLanes(Step512(q, w, code1 + d - 32, Vector512<int>.Zero));
            s2 += SumLanes(Step512(q, w, code2 + d - 32, Vector512<int>.Zero));
            s3 += SumLanes(Step512(q, w, code3 + d - 32, Vector512<int>.Zero));
        }
        return Vector128.Create((float)s0, s1, s2, s3) * Unit;
    }

    /// <summary>Quantizes a query with the SQ8 quantizer these weights came from, one 16-bit code per component.</summary>
    public static void EncodeQuery(ScalarQuantizer quantizer, ReadOnlySpan<float> query, short* codes) => quantizer.EncodeRowWide(query, new Span<short>(codes, query.Length));

    // The exact integer sum, by the widest path the processor has.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long Sum(short* query, byte* code)
    {
        if (Avx512BW.IsSupported && Dimension >= 32) return Sum512(query, code);
        if (Avx2.IsSupported && Dimension >= 16) return Sum256(query, code);
        return SumScalar(query, code);
    }

    internal long Sum512(short* query, byte* code)
    {
        int d = Dimension;
        int main = d - d % 32;
        long sum = 0;
        for (int start = 0; start < main; start += BlockComponents)
        {
            int end = Math.Min(main, start + BlockComponents);
            Vector512<int> a = Vector512<int>.Zero, b = Vector512<int>.Zero;
            int j = start;
            for (; j + 64 <= end; j += 64)
            {
                a = Step512(Vector512.Load(query + j), Vector512.Load(_weightBase + j), code + j, a);
                b = Step512(Vector512.Load(query + j + 32), Vector512.Load(_weightBase + j + 32), code + j + 32, b);
            }
            if (j < end) a = Step512(Vector512.Load(query + j), Vector512.Load(_weightBase + j), code + j, a);
            sum += SumLanes(a) + SumLanes(b);
        }
        if (main < d)
            sum += SumLanes(Step512(Vector512.Load(query + d - 32), Vector512.Load(_tail32Base), code + d - 32, Vector512<int>.Zero));
        return sum;
    }

    internal long Sum256(short* query, byte* code)
    {
        int d = Dimension;
        int main = d - d % 16;
        long sum = 0;
        for (int start = 0; start < main; start += BlockComponents)
        {
            int end = Math.Min(main, start + BlockComponents);
            Vector256<int> a = Vector256<int>.Zero;
            for (int j = start; j < end; j += 16)
                a = Step256(Vector256.Load(query + j), Vector256.Load(_weightBase + j), code + j, a);
            sum += SumLanes(a);
        }
        if (main < d)
            sum += SumLanes(Step256(Vector256.Load(query + d - 16), Vector256.Load(_tail16Base), code + d - 16, Vector256<int>.Zero));
        return sum;
    }

    internal long SumScalar(short* query, byte* code)
    {
        long sum = 0;
        for (int j = 0; j < Dimension; j++)
        {
            int diff = query[j] - code[j];
            sum += _weightBase[j] * diff * diff;
        }
        return sum;
    }

    // acc += Σ pairs of W · (a − c) · (a − c): |a − c| ≤ 255 and W ≤ 127, so W · (a − c) fits 16 bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step512(Vector512<short> query, Vector512<short> weights, byte* code, Vector512<int> acc)
    {
        Vector512<short> diff = query - Avx512BW.ConvertToVector512Int16(Vector256.Load(code));
        return acc + Avx512BW.MultiplyAddAdjacent(diff * weights, diff);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step256(Vector256<short> query, Vector256<short> weights, byte* code, Vector256<int> acc)
    {
        Vector256<short> diff = query - Avx2.ConvertToVector256Int16(Vector128.Load(code));
        return acc + Avx2.MultiplyAddAdjacent(diff * weights, diff);
    }

    // Lanes hold at most 2^31 − 1 each; their sum may not, so it is taken in 64 bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long SumLanes(Vector512<int> lanes) => Vector512.Sum(Vector512.WidenLower(lanes) + Vector512.WidenUpper(lanes));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long SumLanes(Vector256<int> lanes) => Vector256.Sum(Vector256.WidenLower(lanes) + Vector256.WidenUpper(lanes));

    private void FillTail(short[] tail, int covered)
    {
        int d = Dimension, width = tail.Length;
        if (d < width) return;
        for (int i = 0; i < width; i++)
        {
            int j = d - width + i;
            tail[i] = j >= covered ? _weights[j] : (short)0;
        }
    }
}
