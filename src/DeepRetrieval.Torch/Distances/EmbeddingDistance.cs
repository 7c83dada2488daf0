using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distances;

/// <summary>
/// How a loss or miner compares embeddings, as pytorch-metric-learning's <c>BaseDistance</c>: a full batched matrix between
/// two sets, or row-wise between paired rows. A distance is either a true distance (smaller is closer) or a similarity
/// (larger is closer, PML's <c>is_inverted</c>); <see cref="Violation"/> hides that difference from the losses.
/// </summary>
public abstract class EmbeddingDistance
{
    /// <summary>Creates the distance.</summary>
    /// <param name="normalizeEmbeddings">L2-normalise rows before comparing them.</param>
    /// <param name="isSimilarity">True when larger values mean closer.</param>
    protected EmbeddingDistance(bool normalizeEmbeddings, bool isSimilarity)
    {
        NormalizeEmbeddings = normalizeEmbeddings;
        IsSimilarity = isSimilarity;
    }

    /// <summary>Whether rows are L2-normalised before they are compared.</summary>
    public bool NormalizeEmbeddings { get; }

    /// <summary>True when larger values mean closer (cosine, dot product); false for distances.</summary>
    public bool IsSimilarity { get; }

    /// <summary>The n × m matrix between every row of <paramref name="query"/> and every row of <paramref name="reference"/>.</summary>
    /// <param name="query">n × d embeddings.</param>
    /// <param name="reference">m × d embeddings; null compares <paramref name="query"/> with itself.</param>
    /// <exception cref="ArgumentException">A tensor is not 2-D or the widths differ.</exception>
    public Tensor Pairwise(Tensor query, Tensor? reference = null)
    {
        CheckMatrix(query, nameof(query));
        if (reference is not null)
        {
            CheckMatrix(reference, nameof(reference));
            if (reference.shape[1] != query.shape[1])
                throw new ArgumentException($"Query rows have {query.shape[1]} components but reference rows have {reference.shape[1]}.", nameof(reference));
        }
        Tensor q = Prepare(query);
        Tensor r = reference is null ? q : Prepare(reference);
        return ComputeMatrix(q, r);
    }

    /// <summary>The n values between row i of <paramref name="a"/> and row i of <paramref name="b"/>.</summary>
    /// <param name="a">n × d embeddings.</param>
    /// <param name="b">n × d embeddings.</param>
    /// <exception cref="ArgumentException">A tensor is not 2-D or the shapes differ.</exception>
    public Tensor Paired(Tensor a, Tensor b)
    {
        CheckMatrix(a, nameof(a));
        CheckMatrix(b, nameof(b));
        if (!a.shape.SequenceEqual(b.shape))
            throw new ArgumentException($"Paired rows need equal shapes; got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}].", nameof(b));
        return ComputePaired(Prepare(a), Prepare(b));
    }

    /// <summary>
    /// How far a positive value is from being better than a negative one: <c>positive − negative</c> for a distance,
    /// <c>negative − positive</c> for a similarity (PML's <c>margin(x, y)</c>). A triplet loss is <c>relu(Violation(ap, an) + margin)</c>.
    /// </summary>
    /// <param name="positive">Values for positive pairs.</param>
    /// <param name="negative">Values for negative pairs (broadcastable).</param>
    public Tensor Violation(Tensor positive, Tensor negative) => IsSimilarity ? negative - positive : positive - negative;

    /// <summary>The n × m matrix between prepared (already normalised if asked) rows.</summary>
    /// <param name="query">n × d.</param>
    /// <param name="reference">m × d.</param>
    protected abstract Tensor ComputeMatrix(Tensor query, Tensor reference);

    /// <summary>The row-wise values between prepared rows.</summary>
    /// <param name="a">n × d.</param>
    /// <param name="b">n × d.</param>
    protected abstract Tensor ComputePaired(Tensor a, Tensor b);

    private Tensor Prepare(Tensor x) => NormalizeEmbeddings ? nn.functional.normalize(x, p: 2, dim: 1, eps: 1e-12) : x;

    private static void CheckMatrix(Tensor x, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.dim() != 2)
            throw new ArgumentException($"Embeddings must be a 2-D tensor (n × d); got shape [{string.Join(", ", x.shape)}].", name);
    }
}
