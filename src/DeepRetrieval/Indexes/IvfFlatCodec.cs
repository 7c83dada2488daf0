using System.Numerics.Tensors;
using System.Runtime.InteropServices;
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
        int d = Dimension;
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float x = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(codes));
        if (Similarity)
        {
            for (int i = 0; i < count; i++)
                keys[i] = -Distance.InnerProductUnchecked(ref q, ref System.Runtime.CompilerServices.Unsafe.Add(ref x, i * d), d);
        }
        else
        {
            for (int i = 0; i < count; i++)
                keys[i] = Distance.SquaredL2Unchecked(ref q, ref System.Runtime.CompilerServices.Unsafe.Add(ref x, i * d), d);
        }
    }

    public override string? CheckCodes(ReadOnlySpan<byte> codes) =>
        FiniteValues.All(MemoryMarshal.Cast<byte, float>(codes)) ? null : "a stored vector holds a non-finite value";
}
