using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// How an <see cref="IvfIndex"/> scores a whole list of codes against a query. The codes themselves (encoding, decoding,
/// training, parameters in files, validation) are the shared <see cref="VectorCodec"/>'s; this layer adds what inverted
/// lists need on top: residuals against the list's centroid and per-list tables.
/// Keys are what top-k selection sorts by: the squared distance for L2, the negated similarity otherwise.
/// </summary>
internal abstract class IvfListCodec(VectorCodec codec)
{
    /// <summary>The storage codec the lists' codes are written with.</summary>
    public VectorCodec Codec { get; } = codec;

    public int Dimension => Codec.Dimension;

    /// <summary>True for inner product (and cosine, whose vectors are unit length): larger is closer.</summary>
    public bool Similarity => Codec.Similarity;

    public int CodeSize => Codec.CodeSize;

    /// <summary>True when codes encode the vector minus its list's centroid rather than the vector itself.</summary>
    public abstract bool ByResidual { get; }

    /// <summary>True when <see cref="Train"/> learns something (a flat or fp16 encoding needs nothing).</summary>
    public bool NeedsTraining => Codec.NeedsTraining;

    /// <summary>The fewest training vectors the encoding can learn from.</summary>
    public int MinimumTrainingRows => Codec.MinimumTrainingRows;

    /// <summary>Floats of <see cref="IvfScratch.Table"/> a query needs.</summary>
    public virtual int TableSize => 0;

    public virtual long MemoryUsageBytes => Codec.MemoryUsageBytes;

    /// <summary>Learns the encoding from residuals (or vectors, when not by residual); a cancelled training changes nothing.</summary>
    public void Train(ReadOnlySpan<float> vectors, IndexBuildOptions options) => Codec.Train(vectors, options);

    /// <summary>Told the trained centroids (after training and after loading), for per-list precomputation.</summary>
    public virtual void SetCentroids(ReadOnlySpan<float> centroids, int lists) { }

    public void Encode(ReadOnlySpan<float> vector, Span<byte> code) => Codec.Encode(vector, code);

    /// <summary>Decodes one code (a residual, for residual codecs) without allocating.</summary>
    public void Decode(ReadOnlySpan<byte> code, Span<float> vector) => Codec.Decode(code, vector);

    /// <summary>Prepares per-query state shared by every list the query probes.</summary>
    public virtual void BeginQuery(ReadOnlySpan<float> query, IvfScratch scratch) { }

    /// <summary>Writes the key of each of <paramref name="count"/> codes of list <paramref name="list"/> into <paramref name="keys"/>.</summary>
    /// <param name="query">The (normalised, for cosine) query.</param>
    /// <param name="list">The list number.</param>
    /// <param name="centroid">The list's centroid.</param>
    /// <param name="coarse">For residual codecs, ‖q − c‖² for L2 and q·c for similarities; 0 otherwise.</param>
    /// <param name="codes">The list's codes, at least count × <see cref="CodeSize"/> bytes.</param>
    /// <param name="count">Codes to score.</param>
    /// <param name="keys">Receives count keys.</param>
    /// <param name="scratch">The thread's buffers.</param>
    public abstract void ComputeKeys(ReadOnlySpan<float> query, int list, ReadOnlySpan<float> centroid, float coarse,
        ReadOnlySpan<byte> codes, int count, Span<float> keys, IvfScratch scratch);

    /// <summary>Writes the learnt parameters.</summary>
    public void WriteTo(IndexPayloadWriter writer) => Codec.WriteTo(writer);

    /// <summary>Describes what is wrong with codes read from a file, or returns null when they are valid.</summary>
    public string? CheckCodes(ReadOnlySpan<byte> codes) => Codec.CheckCodes(codes);
}
