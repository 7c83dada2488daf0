using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DeepRetrieval.Distances;

namespace DeepRetrieval.Indexes;

/// <summary>Raw float vectors in the lists (Faiss <c>IndexIVFFlat</c>): exact distances to every vector scanned.</summary>
internal sealed class IvfFlatCodec(int dimension, bool similarity) : IvfListCodec(dimension, similarity)
{
    public override int CodeSize => Dimension * sizeof(float);

    public override bool ByResidual => false;

    public override bool NeedsTraining => false;

    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => MemoryMarshal.AsBytes(vector).CopyTo(code);

    public override void ComputeKeys(ReadOnlySpan<float> query, int list, ReadOnlySpan<float> centroid, float coarse,
        ReadOnlySpan<byte> codes, int count, Span<float> keys, IvfScratch scratch)
    {
        int d = Dimension, i = 0;
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float x = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(codes));
        // Four rows at a time (as HnswIndex does): four load streams keep more of a probed list in flight.
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

    public override string? CheckCodes(ReadOnlySpan<byte> codes) =>
        FiniteValues.All(MemoryMarshal.Cast<byte, float>(codes)) ? null : "a stored vector holds a non-finite value";
}
