using DeepRetrieval.Clustering;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Codes;

/// <summary>
/// Exhaustive search over product-quantized codes (Faiss <c>IndexPQ</c>): each vector is stored as
/// <see cref="ProductQuantizer.CodeSize"/> bytes, and every query is compared with every code by asymmetric distance
/// computation: one table of M × 2^bits partial distances per query, then M table lookups per code.
/// </summary>
/// <remarks>
/// The index must be trained (the product quantizer's codebooks) before vectors are added or searched. Storage, search,
/// removal and files are <see cref="FlatCodesIndex"/>'s.
/// </remarks>
public sealed class PqIndex : FlatCodesIndex
{
    /// <summary>The kind name used by the factory and the index file.</summary>
    public const string KindName = IndexKinds.ProductQuantizer;

    // PQ<M> or PQ<M>x<bits>.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = ParseToken,
        FactorySyntax = "PQ<M>[x<bits>]",
    };

    /// <summary>Creates an empty, untrained index.</summary>
    /// <param name="dimension">Components per vector; a multiple of <paramref name="subQuantizers"/>.</param>
    /// <param name="subQuantizers">Number of subspaces M; each vector is stored as M indices.</param>
    /// <param name="bitsPerCode">Bits per index, 4 to 8 (2^bits centroids per subspace).</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <exception cref="ArgumentException">The dimension is not a multiple of M, or a parameter is out of range.</exception>
    public PqIndex(int dimension, int subQuantizers, int bitsPerCode = 8, Metric metric = Metric.L2)
        : this(dimension, metric, new ProductCodec(new ProductQuantizer(dimension, subQuantizers, bitsPerCode), metric.IsSimilarity()))
    {
    }

    private PqIndex(int dimension, Metric metric, VectorCodec codec) : base(dimension, metric, codec) { }

    /// <summary>The product quantizer that encodes the vectors (its codebooks once trained).</summary>
    public ProductQuantizer Quantizer => ((ProductCodec)Codec).Quantizer;

    /// <summary>k-means settings for training the codebooks; null for the defaults (25 iterations, 256 points per centroid).</summary>
    public KMeansOptions? TrainingOptions
    {
        get => ((ProductCodec)Codec).TrainingOptions;
        init => ((ProductCodec)Codec).TrainingOptions = value;
    }

    /// <inheritdoc />
    public override string Kind => KindName;

    private static IIndex? ParseToken(IndexFactoryCursor cursor)
    {
        if (!IndexFactoryCursor.TryMatch(cursor.Token, "PQ", out _)) return null;
        IvfEncoding pq = IvfEncoding.ParseToken(cursor);
        return cursor.Build(() => new PqIndex(cursor.Dimension, pq.SubQuantizers, pq.BitsPerCode, cursor.FloatMetric));
    }

    internal static PqIndex ReadPayload(IndexPayloadReader reader) =>
        ReadPayload(reader, ProductCodec.Read, (dimension, metric, codec) => new PqIndex(dimension, metric, codec));
}
