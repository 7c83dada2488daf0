using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepRetrieval.Hashing;

/// <summary>
/// Packs the signs of float components into bits, as Faiss's <c>fvecs2bitvecs</c>: component j sets bit j % 8 of
/// byte j / 8 (least significant bit first) when it is strictly positive.
/// </summary>
internal static class SignBits
{
    /// <summary>Bytes needed for <paramref name="bits"/> bits.</summary>
    public static int CodeSize(int bits) => (bits + 7) / 8;

    /// <summary>Packs one row; <paramref name="code"/> must hold <see cref="CodeSize"/> bytes of the row's length.</summary>
    public static void Pack(ReadOnlySpan<float> values, Span<byte> code)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float first = ref MemoryMarshal.GetReference(values);
            // A comparison mask's sign bits, extracted, are exactly the eight bits of one code byte.
            for (; i <= values.Length - 8; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref first, (nuint)i);
                code[i >> 3] = (byte)Vector256.GreaterThan(v, Vector256<float>.Zero).ExtractMostSignificantBits();
            }
        }
        for (; i < values.Length; i += 8)
        {
            int end = Math.Min(values.Length, i + 8);
            int b = 0;
            for (int j = i; j < end; j++)
                if (values[j] > 0f) b |= 1 << (j - i);
            code[i >> 3] = (byte)b;
        }
    }

    /// <summary>Packs every row of <paramref name="rows"/> (row-major, <paramref name="dimension"/> wide) into consecutive codes.</summary>
    public static void PackRows(ReadOnlySpan<float> rows, int dimension, Span<byte> codes)
    {
        int codeSize = CodeSize(dimension);
        int count = rows.Length / dimension;
        for (int r = 0; r < count; r++)
            Pack(rows.Slice(r * dimension, dimension), codes.Slice(r * codeSize, codeSize));
    }
}
