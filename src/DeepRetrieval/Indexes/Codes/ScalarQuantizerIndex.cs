using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Persistence;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Codes;

/// <summary>
/// Exhaustive search over scalar-quantized codes (Faiss <c>IndexScalarQuantizer</c>): each vector is stored as
/// <see cref="ScalarQuantizer.CodeSize"/> bytes and every query is compared with every code through the
/// quantizer's asymmetric distance, so the query itself is never quantized.
/// </summary>
/// <remarks>
/// SQ8 and SQ4 must be trained before vectors are added or searched; Fp16 is ready at once. Storage, search, removal and
/// files are <see cref="FlatCodesIndex"/>'s.
/// </remarks>
public sealed class ScalarQuantizerIndex : FlatCodesIndex
{
    /// <summary>The kind name used by the index file.</summary>
    public const string KindName = IndexKinds.ScalarQuantizer;

    // SQ8, SQ4 or SQfp16.
    internal static readonly IndexKindDescriptor Registration = new(KindName, ReadPayload)
    {
        Create = c => IvfEncoding.TryParseScalar(c.Token, out ScalarQuantizerType type) ? new ScalarQuantizerIndex(c.Dimension, type, c.FloatMetric) : null,
        FactorySyntax = "SQ8, SQ4, SQfp16",
    };

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Components per vector.</param>
    /// <param name="type">How each component is stored.</param>
    /// <param name="metric">How vectors are compared.</param>
    public ScalarQuantizerIndex(int dimension, ScalarQuantizerType type, Metric metric = Metric.L2)
        : this(dimension, metric, new ScalarCodec(new ScalarQuantizer(dimension, type), metric.IsSimilarity()))
    {
    }

    private ScalarQuantizerIndex(int dimension, Metric metric, VectorCodec codec) : base(dimension, metric, codec) { }

    /// <summary>How each component is stored.</summary>
    public ScalarQuantizerType Type => ((ScalarCodec)Codec).Quantizer.Type;

    /// <inheritdoc />
    public override string Kind => KindName;

    internal static ScalarQuantizerIndex ReadPayload(IndexPayloadReader reader) =>
        ReadPayload(reader, ScalarCodec.Read, (dimension, metric, codec) => new ScalarQuantizerIndex(dimension, metric, codec));
}
