using DeepRetrieval.Indexes.Codes;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>Raw float vectors in the lists (Faiss <c>IndexIVFFlat</c>): exact distances to every vector scanned, four rows at a time.</summary>
internal sealed class IvfFlatCodec(int dimension, bool similarity) : IvfListCodec(new FloatCodec(dimension, similarity))
{
    public override bool ByResidual => false;

    public override void ComputeKeys(ReadOnlySpan<float> query, int list, ReadOnlySpan<float> centroid, float coarse,
        ReadOnlySpan<byte> codes, int count, Span<float> keys, IvfScratch scratch) =>
        Codec.Keys(query, default, codes, keys[..count]);
}
