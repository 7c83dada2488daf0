using System.Numerics.Tensors;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Scalar-quantized residuals (Faiss <c>IndexIVFScalarQuantizer</c> with <c>by_residual</c>): for L2 the query's
/// residual against the list's centroid is compared with the codes; for similarities q·(c + r) = q·c + q·r, the
/// first term being the coarse quantizer's value.
/// </summary>
internal sealed class IvfScalarCodec : IvfListCodec
{
    public IvfScalarCodec(ScalarQuantizer quantizer, bool similarity) : base(quantizer.Dimension, similarity) => Quantizer = quantizer;

    public ScalarQuantizer Quantizer { get; }

    public override int CodeSize => Quantizer.CodeSize;

    public override bool ByResidual => true;

    public override bool NeedsTraining => Quantizer.Type != ScalarQuantizerType.Fp16;

    public override long MemoryUsageBytes => Quantizer.Type == ScalarQuantizerType.Fp16 ? 0 : 4L * Dimension * sizeof(float);

    public override void Train(ReadOnlySpan<float> vectors) => Quantizer.Train(vectors);

    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => Quantizer.EncodeRow(vector, code);

    public override void ComputeKeys(ReadOnlySpan<float> query, int list, ReadOnlySpan<float> centroid, float coarse,
        ReadOnlySpan<byte> codes, int count, Span<float> keys, IvfScratch scratch)
    {
        int size = CodeSize;
        if (Similarity)
        {
            for (int i = 0; i < count; i++)
                keys[i] = -(coarse + Quantizer.InnerProductUnchecked(query, codes.Slice(i * size, size)));
            return;
        }
        Span<float> residual = scratch.Residual.AsSpan(0, Dimension);
        TensorPrimitives.Subtract(query, centroid, residual);
        for (int i = 0; i < count; i++)
            keys[i] = Quantizer.SquaredL2Unchecked(residual, codes.Slice(i * size, size));
    }

    public override void WriteTo(IndexPayloadWriter writer) => Quantizer.WriteTo(writer);

    public override string? CheckCodes(ReadOnlySpan<byte> codes)
    {
        int size = CodeSize;
        if (Quantizer.Type == ScalarQuantizerType.SQ4 && Dimension % 2 == 1)
        {
            for (int at = size - 1; at < codes.Length; at += size)
                if (codes[at] >> 4 != 0) return $"code {at / size} has a non-zero padding nibble";
        }
        else if (Quantizer.Type == ScalarQuantizerType.Fp16)
        {
            for (int at = 0; at + 1 < codes.Length; at += 2)
                if (!Half.IsFinite(BitConverter.UInt16BitsToHalf((ushort)(codes[at] | codes[at + 1] << 8))))
                    return $"code {at / size} holds a non-finite half";
        }
        return null;
    }
}
