using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Codes;

/// <summary>Raw floats as codes (Faiss's flat storage): exact keys, four rows at a time over contiguous codes.</summary>
internal sealed class FloatCodec(int dimension, bool similarity) : VectorCodec(dimension, similarity)
{
    public override int CodeSize => Dimension * sizeof(float);

    public override bool IsTrained => true;

    public override bool IsExact => true;

    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => MemoryMarshal.AsBytes(vector).CopyTo(code);

    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector) => MemoryMarshal.Cast<byte, float>(code).CopyTo(vector);

    public override float Key(ReadOnlySpan<float> query, ReadOnlySpan<float> table, ReadOnlySpan<byte> code)
    {
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float x = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(code));
        return Similarity ? -Distance.InnerProductUnchecked(ref q, ref x, Dimension) : Distance.SquaredL2Unchecked(ref q, ref x, Dimension);
    }

    public override void Keys(ReadOnlySpan<float> query, ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> keys)
    {
        int d = Dimension, i = 0, count = keys.Length;
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float x = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(codes));
        // Four rows at a time: four load streams keep more of the codes in flight than one row at a time.
        for (; i <= count - 4; i += 4)
        {
            ref float x0 = ref Unsafe.Add(ref x, (nint)i * d);
            ref float x1 = ref Unsafe.Add(ref x0, d);
            ref float x2 = ref Unsafe.Add(ref x1, d);
            ref float x3 = ref Unsafe.Add(ref x2, d);
            Vector128<float> four = Similarity
                ? -Distance.InnerProductUnchecked4(ref q, ref x0, ref x1, ref x2, ref x3, d)
                : Distance.SquaredL2Unchecked4(ref q, ref x0, ref x1, ref x2, ref x3, d);
            four.StoreUnsafe(ref keys[i]);
        }
        for (; i < count; i++)
        {
            ref float row = ref Unsafe.Add(ref x, (nint)i * d);
            keys[i] = Similarity ? -Distance.InnerProductUnchecked(ref q, ref row, d) : Distance.SquaredL2Unchecked(ref q, ref row, d);
        }
    }

    /// <summary>
    /// The keys of the rows numbered <paramref name="rows"/> of <paramref name="codes"/>, gathered four at a time with the
    /// kernel <see cref="Keys"/> uses, so each key is bit-identical to the contiguous scan's.
    /// </summary>
    public void KeysOfRows(ReadOnlySpan<float> query, ReadOnlySpan<byte> codes, ReadOnlySpan<int> rows, Span<float> keys)
    {
        int d = Dimension, i = 0, count = rows.Length;
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float x = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(codes));
        for (; i <= count - 4; i += 4)
        {
            ref float x0 = ref Unsafe.Add(ref x, (nint)rows[i] * d);
            ref float x1 = ref Unsafe.Add(ref x, (nint)rows[i + 1] * d);
            ref float x2 = ref Unsafe.Add(ref x, (nint)rows[i + 2] * d);
            ref float x3 = ref Unsafe.Add(ref x, (nint)rows[i + 3] * d);
            Vector128<float> four = Similarity
                ? -Distance.InnerProductUnchecked4(ref q, ref x0, ref x1, ref x2, ref x3, d)
                : Distance.SquaredL2Unchecked4(ref q, ref x0, ref x1, ref x2, ref x3, d);
            four.StoreUnsafe(ref keys[i]);
        }
        for (; i < count; i++)
        {
            ref float row = ref Unsafe.Add(ref x, (nint)rows[i] * d);
            keys[i] = Similarity ? -Distance.InnerProductUnchecked(ref q, ref row, d) : Distance.SquaredL2Unchecked(ref q, ref row, d);
        }
    }

    public override void WriteTo(IndexPayloadWriter writer) { }

    public override string? CheckCodes(ReadOnlySpan<byte> codes) =>
        FiniteValues.All(MemoryMarshal.Cast<byte, float>(codes)) ? null : "a stored vector holds a non-finite value";
}
