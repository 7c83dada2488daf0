using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes;

/// <summary>
/// How an <see cref="IvfIndex"/> turns vectors into list codes and scores a whole list of codes against a query.
/// Keys are what top-k selection sorts by: the squared distance for L2, the negated similarity otherwise.
/// </summary>
internal abstract class IvfListCodec
{
    protected IvfListCodec(int dimension, bool similarity)
    {
        Dimension = dimension;
        Similarity = similarity;
    }

    public int Dimension { get; }

    /// <summary>True for inner product (and cosine, whose vectors are unit length): larger is closer.</summary>
    public bool Similarity { get; }

    public abstract int CodeSize { get; }

    /// <summary>True when codes encode the vector minus its list's centroid rather than the vector itself.</summary>
    public abstract bool ByResidual { get; }

    /// <summary>True when <see cref="Train"/> learns something (a flat or fp16 encoding needs nothing).</summary>
    public abstract bool NeedsTraining { get; }

    /// <summary>The fewest training vectors the encoding can learn from.</summary>
    public virtual int MinimumTrainingRows => 1;

    /// <summary>Floats of <see cref="IvfScratch.Table"/> a query needs.</summary>
    public virtual int TableSize => 0;

    public virtual long MemoryUsageBytes => 0;

    /// <summary>Learns the encoding from residuals (or vectors, when not by residual).</summary>
    public virtual void Train(ReadOnlySpan<float> vectors) { }

    /// <summary>Told the trained centroids (after training and after loading), for per-list precomputation.</summary>
    public virtual void SetCentroids(ReadOnlySpan<float> centroids, int lists) { }

    public abstract void Encode(ReadOnlySpan<float> vector, Span<byte> code);

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
    public virtual void WriteTo(IndexPayloadWriter writer) { }

    /// <summary>Describes what is wrong with codes read from a file, or returns null when they are valid.</summary>
    public virtual string? CheckCodes(ReadOnlySpan<byte> codes) => null;
}
