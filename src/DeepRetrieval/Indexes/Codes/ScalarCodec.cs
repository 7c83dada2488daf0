using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Codes;

/// <summary>Scalar-quantized codes (SQ8, SQ4, fp16; Faiss's <c>ScalarQuantizer</c>): the float query is compared with each code directly.</summary>
internal sealed class ScalarCodec(ScalarQuantizer quantizer, bool similarity) : VectorCodec(quantizer.Dimension, similarity)
{
    public ScalarQuantizer Quantizer { get; } = quantizer;

    public override int CodeSize => Quantizer.CodeSize;

    public override bool IsTrained => Quantizer.IsTrained;

    public override bool NeedsTraining => Quantizer.Type != ScalarQuantizerType.Fp16;

    public override long MemoryUsageBytes => Quantizer.Type == ScalarQuantizerType.Fp16 ? 0 : 4L * Dimension * sizeof(float);

    public override void Train(ReadOnlySpan<float> vectors, IndexBuildOptions options) => Quantizer.Train(vectors);

    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => Quantizer.EncodeRow(vector, code);

    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector) => Quantizer.DecodeRow(code, vector);

    public override float Key(ReadOnlySpan<float> query, ReadOnlySpan<float> table, ReadOnlySpan<byte> code) =>
        Similarity ? -Quantizer.InnerProductUnchecked(query, code) : Quantizer.SquaredL2Unchecked(query, code);

    public override void WriteTo(IndexPayloadWriter writer) => Quantizer.WriteTo(writer);

    public static ScalarCodec Read(IndexPayloadReader reader, int dimension, bool similarity) =>
        new(ScalarQuantizer.ReadFrom(reader, dimension), similarity);

    // Codes this library writes never hold a set padding nibble or a non-finite half, so either means corruption.
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
