using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// Scalar-quantized residuals (Faiss <c>IndexIVFScalarQuantizer</c> with <c>by_residual</c>): for L2 the query's
/// residual against the list's centroid is compared with the codes; for similarities q·(c + r) = q·c + q·r, the
/// first term being the coarse quantizer's value.
/// </summary>
internal sealed class IvfScalarCodec(ScalarQuantizer quantizer, bool similarity) : IvfListCodec(new ScalarCodec(quantizer, similarity))
{
    public ScalarQuantizer Quantizer { get; } = quantizer;

    public override bool ByResidual => true;

    public override void ComputeKeys(ReadOnlySpan<float> query, int list, ReadOnlySpan<float> centroid, float coarse,
        ReadOnlySpan<byte> codes, int count, Span<float> keys, IvfScratch scratch)
    {
        int size = CodeSize;
        int i = 0;
        bool sq8 = Quantizer.Type == ScalarQuantizerType.SQ8;
        if (Similarity)
        {
            // SQ8 lists four codes at a time (bit for bit the one-code keys).
            for (; sq8 && i + 4 <= count; i += 4)
            {
                Vector128<float> dot = Quantizer.Sq8Distance4(query, codes.Slice(i * size, size), codes.Slice((i + 1) * size, size),
                    codes.Slice((i + 2) * size, size), codes.Slice((i + 3) * size, size), l2: false);
                (-(Vector128.Create(coarse) + dot)).CopyTo(keys[i..]);
            }
            for (; i < count; i++)
                keys[i] = -(coarse + Quantizer.InnerProductUnchecked(query, codes.Slice(i * size, size)));
            return;
        }
        Span<float> residual = scratch.Residual.AsSpan(0, Dimension);
        TensorPrimitives.Subtract(query, centroid, residual);
        for (; sq8 && i + 4 <= count; i += 4)
            Quantizer.Sq8Distance4(residual, codes.Slice(i * size, size), codes.Slice((i + 1) * size, size),
                codes.Slice((i + 2) * size, size), codes.Slice((i + 3) * size, size), l2: true).CopyTo(keys[i..]);
        for (; i < count; i++)
            keys[i] = Quantizer.SquaredL2Unchecked(residual, codes.Slice(i * size, size));
    }
}
