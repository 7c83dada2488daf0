using System.Numerics.Tensors;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// Product-quantized residuals (Faiss <c>IndexIVFPQ</c> with <c>by_residual</c>). Every key is an ADC sum over one
/// distance table per list, built as cheaply as the metric allows:
/// </summary>
/// <remarks>
/// <para>Inner product: q·(c + r) = q·c + Σₘ qₘ·rₘ, so one table of q against the codebooks serves every list.</para>
/// <para>L2 with the precomputed table (Faiss's <c>use_precomputed_table</c>): ‖q − c − r‖² = ‖q − c‖² + (‖r‖² + 2 c·r)
/// − 2 q·r. The middle term depends only on the list and the code, so it is tabulated per list at training (and
/// loading) time; the last is one table per query, and a list's table is their sum: M × 2^bits additions instead of
/// a distance table of the query's residual.</para>
/// <para>L2 when the per-list tables would exceed <see cref="MaxPrecomputedBytes"/>: a table of the residual q − c per list.</para>
/// </remarks>
internal sealed class IvfProductCodec : IvfListCodec
{
    /// <summary>The most memory the per-list tables may take (Faiss's default limit is 2 GiB).</summary>
    public const long MaxPrecomputedBytes = 1L << 30;

    private float[]? _precomputed; // [list][M × 2^bits]: ‖r‖² + 2 c·r for each codebook entry r

    public IvfProductCodec(ProductQuantizer quantizer, bool similarity) : base(new ProductCodec(quantizer, similarity)) { }

    /// <summary>The lists' quantizer (a new one once training completes).</summary>
    public ProductQuantizer Quantizer => ((ProductCodec)Codec).Quantizer;

    public override bool ByResidual => true;

    /// <summary>The most memory the per-list tables may take; lowered by tests to exercise the fallback.</summary>
    internal long PrecomputedLimitBytes { get; set; } = MaxPrecomputedBytes;

    /// <summary>True when L2 searches use the per-list precomputed tables.</summary>
    public bool UsesPrecomputedTable => _precomputed is not null;

    // The query's table, then the list's table.
    public override int TableSize => 2 * Quantizer.DistanceTableSize;

    public override long MemoryUsageBytes =>
        2L * Quantizer.Centroids.Length * sizeof(float) + (_precomputed?.LongLength ?? 0) * sizeof(float);

    public override void SetCentroids(ReadOnlySpan<float> centroids, int lists)
    {
        _precomputed = null;
        int size = Quantizer.DistanceTableSize;
        if (Similarity || (long)lists * size * sizeof(float) > PrecomputedLimitBytes) return;

        // ‖r‖² of every codebook entry: the L2 table of the zero vector.
        var norms = new float[size];
        Quantizer.ComputeDistanceTableUnchecked(new float[Dimension], norms, Metric.L2);
        var table = new float[(long)lists * size];
        for (int l = 0; l < lists; l++)
        {
            Span<float> row = table.AsSpan(l * size, size);
            Quantizer.ComputeDistanceTableUnchecked(centroids.Slice(l * Dimension, Dimension), row, Metric.InnerProduct);
            TensorPrimitives.MultiplyAdd(row, 2f, norms, row);
        }
        _precomputed = table;
    }

    public override void BeginQuery(ReadOnlySpan<float> query, IvfScratch scratch)
    {
        if (!Similarity && _precomputed is null) return;
        Span<float> queryTable = scratch.Table.AsSpan(0, Quantizer.DistanceTableSize);
        Quantizer.ComputeDistanceTableUnchecked(query, queryTable, Metric.InnerProduct);
        if (!Similarity) TensorPrimitives.Multiply(queryTable, -2f, queryTable);
    }

    public override void ComputeKeys(ReadOnlySpan<float> query, int list, ReadOnlySpan<float> centroid, float coarse,
        ReadOnlySpan<byte> codes, int count, Span<float> keys, IvfScratch scratch)
    {
        int size = Quantizer.DistanceTableSize;
        ReadOnlySpan<byte> listCodes = codes[..(count * CodeSize)];
        Span<float> queryTable = scratch.Table.AsSpan(0, size);
        if (Similarity)
        {
            Quantizer.ComputeDistancesUnchecked(queryTable, listCodes, keys);
            // Keys are negated similarities: −(q·c + Σ qₘ·rₘ).
            TensorPrimitives.Add(keys, coarse, keys);
            TensorPrimitives.Negate(keys, keys);
            return;
        }
        Span<float> listTable = scratch.Table.AsSpan(size, size);
        if (_precomputed is not null)
        {
            TensorPrimitives.Add(_precomputed.AsSpan(list * size, size), queryTable, listTable);
            Quantizer.ComputeDistancesUnchecked(listTable, listCodes, keys);
            TensorPrimitives.Add(keys, coarse, keys);
            return;
        }
        Span<float> residual = scratch.Residual.AsSpan(0, Dimension);
        TensorPrimitives.Subtract(query, centroid, residual);
        Quantizer.ComputeDistanceTableUnchecked(residual, listTable, Metric.L2);
        Quantizer.ComputeDistancesUnchecked(listTable, listCodes, keys);
    }
}
