using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using DeepRetrieval.Clustering;
using DeepRetrieval.Distances;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Codes;

/// <summary>
/// Product-quantized codes (Faiss's <c>ProductQuantizer</c>): a query is compared with codes by asymmetric distance
/// computation, one table of M × 2^bits partial keys per query (<see cref="PrepareQuery"/>), then M lookups per code.
/// For similarities the table holds negated inner products, so a code's key is the plain sum of its entries.
/// </summary>
internal sealed class ProductCodec : VectorCodec
{
    [ThreadStatic] private static float[]? t_table;
    [ThreadStatic] private static float[]? t_decoded;

    public ProductCodec(ProductQuantizer quantizer, bool similarity) : base(quantizer.Dimension, similarity) => Quantizer = quantizer;

    /// <summary>The quantizer; replaced by a freshly trained one when training completes.</summary>
    public ProductQuantizer Quantizer { get; private set; }

    /// <summary>k-means settings for training the codebooks; null for the defaults.</summary>
    public KMeansOptions? TrainingOptions { get; set; }

    public override int CodeSize => Quantizer.CodeSize;

    public override bool IsTrained => Quantizer.IsTrained;

    public override bool NeedsTraining => true;

    public override int MinimumTrainingRows => Quantizer.CentroidsPerSubQuantizer;

    public override long MemoryUsageBytes => (long)Quantizer.Centroids.Length * sizeof(float);

    public override int QueryTableSize => Quantizer.DistanceTableSize;

    public override void Train(ReadOnlySpan<float> vectors, IndexBuildOptions options)
    {
        int rows = vectors.Length / Dimension;
        if (rows < Quantizer.CentroidsPerSubQuantizer)
            throw new ArgumentException($"Training a PQ index with {Quantizer.CentroidsPerSubQuantizer} centroids per sub-quantizer needs at least that many vectors; got {rows}.", nameof(vectors));
        var quantizer = new ProductQuantizer(Dimension, Quantizer.SubQuantizers, Quantizer.BitsPerCode);
        KMeansOptions settings = (TrainingOptions ?? new KMeansOptions()) with { Logger = options.Logger ?? TrainingOptions?.Logger };
        int m = quantizer.SubQuantizers;
        quantizer.Train(vectors, settings, default, options.CancellationToken,
            done => options.Progress?.Report(new IndexProgress("PQ codebooks", done, m)));
        // Swapped in only when every codebook is trained: a cancelled training leaves the codec untrained.
        Quantizer = quantizer;
    }

    public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => Quantizer.EncodeRow(vector, code, TableScratch());

    public override void Decode(ReadOnlySpan<byte> code, Span<float> vector) => Quantizer.DecodeRow(code, vector);

    public override void PrepareQuery(ReadOnlySpan<float> query, Span<float> table)
    {
        Quantizer.ComputeDistanceTableUnchecked(query, table, Similarity ? Metric.InnerProduct : Metric.L2);
        if (Similarity) TensorPrimitives.Negate(table, table);
    }

    public override float Key(ReadOnlySpan<float> query, ReadOnlySpan<float> table, ReadOnlySpan<byte> code) =>
        Quantizer.BitsPerCode == 8 ? TableSum8(ref MemoryMarshal.GetReference(table), ref MemoryMarshal.GetReference(code), Quantizer.SubQuantizers)
            : Quantizer.DistanceUnchecked(table, code);

    public override void Keys(ReadOnlySpan<float> query, ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> keys) =>
        Quantizer.ComputeDistancesUnchecked(table, codes[..(keys.Length * CodeSize)], keys);

    /// <summary>The key to the decoded code: what the table gives, for a vector that has no table (node-to-node comparisons while building a graph).</summary>
    public override float KeyToVector(ReadOnlySpan<float> vector, ReadOnlySpan<byte> code)
    {
        float[] decoded = t_decoded is { } d && d.Length >= Dimension ? d : t_decoded = new float[Dimension];
        Quantizer.DecodeRow(code, decoded.AsSpan(0, Dimension));
        ref float v = ref MemoryMarshal.GetReference(vector);
        return Similarity ? -Distance.InnerProductUnchecked(ref v, ref decoded[0], Dimension) : Distance.SquaredL2Unchecked(ref v, ref decoded[0], Dimension);
    }

    /// <summary>The sum of one 8-bit code's table entries (rows of 256), with two accumulators to halve the add chain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float TableSum8(ref float table, ref byte code, int m)
    {
        float a = 0f, b = 0f;
        int j = 0;
        for (; j <= m - 2; j += 2)
        {
            a += Unsafe.Add(ref table, (j << 8) + Unsafe.Add(ref code, j));
            b += Unsafe.Add(ref table, ((j + 1) << 8) + Unsafe.Add(ref code, j + 1));
        }
        if (j < m) a += Unsafe.Add(ref table, (j << 8) + Unsafe.Add(ref code, j));
        return a + b;
    }

    public override void WriteTo(IndexPayloadWriter writer) => Quantizer.WriteTo(writer);

    public static ProductCodec Read(IndexPayloadReader reader, int dimension, bool similarity) =>
        new(ProductQuantizer.ReadFrom(reader, dimension), similarity);

    // Codes this library writes never set the bits past M · bits in their last byte, so set ones mean corruption.
    public override string? CheckCodes(ReadOnlySpan<byte> codes)
    {
        int usedBits = Quantizer.SubQuantizers * Quantizer.BitsPerCode % 8;
        if (usedBits == 0) return null;
        int size = CodeSize;
        for (int at = size - 1; at < codes.Length; at += size)
            if (codes[at] >> usedBits != 0) return $"code {at / size} has non-zero padding bits";
        return null;
    }

    private float[] TableScratch() =>
        t_table is { } t && t.Length >= Quantizer.DistanceTableSize ? t : t_table = new float[Quantizer.DistanceTableSize];
}
