using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Base of every embedding loss, composed as in pytorch-metric-learning: a <see cref="EmbeddingDistance"/>, optional mined
/// <see cref="IndexTuples"/> and a <see cref="LossReducer"/>. Call it as a module, <c>loss.call(embeddings, labels)</c>, or
/// with mined tuples and a reference set (cross-batch memory) through <see cref="forward(Tensor, Tensor, IndexTuples?, Tensor?, Tensor?)"/>.
/// The result is a scalar that autograd differentiates; when a batch offers no usable pair the result is zero with a zero gradient.
/// </summary>
public abstract class MetricLoss : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="distance">How embeddings are compared.</param>
    /// <param name="reducer">How unreduced values become a scalar.</param>
    protected MetricLoss(string name, EmbeddingDistance distance, LossReducer reducer) : base(name)
    {
        Distance = distance ?? throw new ArgumentNullException(nameof(distance));
        Reducer = reducer ?? throw new ArgumentNullException(nameof(reducer));
    }

    /// <summary>How embeddings are compared.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>How unreduced values become a scalar; settable, as a loss's reduction is a choice.</summary>
    public LossReducer Reducer { get; set; }

    /// <summary>The loss over all pairs or triplets of the batch (or whatever the loss defines for a batch).</summary>
    /// <param name="embeddings">n × d floating-point embeddings.</param>
    /// <param name="labels">n int64 class labels.</param>
    public override Tensor forward(Tensor embeddings, Tensor labels) => forward(embeddings, labels, null);

    /// <summary>The loss over mined tuples, optionally against a reference set such as a cross-batch memory.</summary>
    /// <param name="embeddings">n × d floating-point embeddings.</param>
    /// <param name="labels">n int64 class labels.</param>
    /// <param name="tuples">A miner's output; null uses every pair or triplet.</param>
    /// <param name="referenceEmbeddings">m × d reference embeddings; null uses the batch.</param>
    /// <param name="referenceLabels">m reference labels; required with <paramref name="referenceEmbeddings"/>.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, or the embeddings hold NaN or infinity.</exception>
    public Tensor forward(Tensor embeddings, Tensor labels, IndexTuples? tuples, Tensor? referenceEmbeddings = null, Tensor? referenceLabels = null)
    {
        LossInput input = Validate(embeddings, labels, tuples, referenceEmbeddings, referenceLabels);
        Tensor? total = null;
        foreach (LossTerms terms in ComputeTerms(input))
        {
            Tensor part = Reducer.Reduce(terms, labels);
            total = total is null ? part : total + part;
        }
        total ??= embeddings.sum() * 0;
        // Keep the result on the graph so backward yields zeros rather than failing when no term depended on the input.
        if (!total.requires_grad && embeddings.requires_grad) total = total + embeddings.sum() * 0;
        return total;
    }

    /// <summary>Computes the loss's unreduced parts.</summary>
    /// <param name="input">The validated batch.</param>
    protected abstract IEnumerable<LossTerms> ComputeTerms(LossInput input);

    private static LossInput Validate(Tensor embeddings, Tensor labels, IndexTuples? tuples, Tensor? referenceEmbeddings, Tensor? referenceLabels)
    {
        EmbeddingInput.Check(embeddings, nameof(embeddings));
        IndexTupleOps.CheckLabels(labels, nameof(labels));
        if (labels.shape[0] != embeddings.shape[0])
            throw new ArgumentException($"There are {embeddings.shape[0]} embeddings but {labels.shape[0]} labels.", nameof(labels));
        if ((referenceEmbeddings is null) != (referenceLabels is null))
            throw new ArgumentException("Reference embeddings and reference labels must be given together.", nameof(referenceLabels));
        if (referenceEmbeddings is null)
            return new LossInput(embeddings, labels.to(ScalarType.Int64), tuples, embeddings, labels.to(ScalarType.Int64), true);
        EmbeddingInput.Check(referenceEmbeddings, nameof(referenceEmbeddings));
        IndexTupleOps.CheckLabels(referenceLabels!, nameof(referenceLabels));
        if (referenceEmbeddings.shape[1] != embeddings.shape[1])
            throw new ArgumentException($"Embeddings have {embeddings.shape[1]} components but reference embeddings have {referenceEmbeddings.shape[1]}.", nameof(referenceEmbeddings));
        if (referenceLabels!.shape[0] != referenceEmbeddings.shape[0])
            throw new ArgumentException($"There are {referenceEmbeddings.shape[0]} reference embeddings but {referenceLabels.shape[0]} reference labels.", nameof(referenceLabels));
        return new LossInput(embeddings, labels.to(ScalarType.Int64), tuples, referenceEmbeddings, referenceLabels.to(ScalarType.Int64), false);
    }
}
