using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Base of the classifier-head losses that work on logits rather than embeddings (cross-entropy with label smoothing, focal,
/// class-balanced, GHM-C, OHEM), used like PyTorch's <c>nn.CrossEntropyLoss</c>: <c>loss.call(logits, labels)</c> with an
/// n × C logits tensor and n int64 labels in 0..C−1. The same object can be the <see cref="ClassifierLoss.Criterion"/> of a
/// softmax-family loss (ArcFace with focal weighting, a linear classifier with OHEM): <see cref="Terms"/> hands over the
/// unreduced values so that the outer loss's reducer and miner weights apply.
/// </summary>
public abstract class LogitLoss : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="reducer">How the unreduced values become a scalar when the loss is called on its own.</param>
    protected LogitLoss(string name, LossReducer reducer) : base(name) =>
        Reducer = reducer ?? throw new ArgumentNullException(nameof(reducer));

    /// <summary>How the unreduced values become a scalar when the loss is called on its own (mean by default).</summary>
    public LossReducer Reducer { get; set; }

    /// <summary>The loss of <paramref name="logits"/> against <paramref name="labels"/>, reduced by <see cref="Reducer"/>.</summary>
    /// <param name="logits">n × C floating-point logits.</param>
    /// <param name="labels">n integer labels in 0..C−1.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, a label is out of range, or the logits hold NaN or infinity.</exception>
    public override Tensor forward(Tensor logits, Tensor labels)
    {
        Tensor classes = CheckedLabels(logits, labels);
        Tensor loss = Reducer.Reduce(ComputeTerms(logits, classes), classes);
        // Keep the result on the graph so backward yields zeros rather than failing when nothing depended on the logits.
        if (!loss.requires_grad && logits.requires_grad) loss = loss + logits.sum() * 0;
        return loss;
    }

    /// <summary>The unreduced values (one per batch element unless the loss selects or pre-reduces them).</summary>
    /// <param name="logits">n × C floating-point logits.</param>
    /// <param name="labels">n integer labels in 0..C−1.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, a label is out of range, or the logits hold NaN or infinity.</exception>
    public LossTerms Terms(Tensor logits, Tensor labels) => ComputeTerms(logits, CheckedLabels(logits, labels));

    /// <summary>Computes the unreduced values from validated inputs.</summary>
    /// <param name="logits">n × C floating-point, finite logits.</param>
    /// <param name="labels">n int64 labels in 0..C−1.</param>
    protected abstract LossTerms ComputeTerms(Tensor logits, Tensor labels);

    /// <summary>−log softmax(logits)[i, labels[i]] for every row, computed with log-sum-exp.</summary>
    /// <param name="logits">n × C logits.</param>
    /// <param name="labels">n int64 labels.</param>
    internal static Tensor NegativeLogLikelihood(Tensor logits, Tensor labels) =>
        -nn.functional.log_softmax(logits, 1).gather(1, labels.unsqueeze(1)).squeeze(1);

    /// <summary>Checks labels against a class count and returns them as int64.</summary>
    /// <param name="labels">1-D integer labels.</param>
    /// <param name="classCount">Number of classes.</param>
    /// <param name="name">Argument name for the exception.</param>
    internal static Tensor CheckLabelRange(Tensor labels, long classCount, string name)
    {
        IndexTupleOps.CheckLabels(labels, name);
        Tensor classes = labels.to(ScalarType.Int64);
        if (classes.numel() == 0) return classes;
        long smallest = classes.min().item<long>(), largest = classes.max().item<long>();
        if (smallest < 0 || largest >= classCount)
            throw new ArgumentException($"Labels must lie in 0..{classCount - 1}; got {(smallest < 0 ? smallest : largest)}.", name);
        return classes;
    }

    private static Tensor CheckedLabels(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() != 2)
            throw new ArgumentException($"Logits must be a 2-D tensor (batch × classes); got shape [{string.Join(", ", logits.shape)}].", nameof(logits));
        if (!logits.is_floating_point())
            throw new ArgumentException($"Logits must be floating point; got {logits.dtype}.", nameof(logits));
        using (var finite = logits.detach().isfinite().all())
            if (!finite.item<bool>()) throw new ArgumentException("Logits contain NaN or infinite values.", nameof(logits));
        Tensor classes = CheckLabelRange(labels, logits.shape[1], nameof(labels));
        if (classes.shape[0] != logits.shape[0])
            throw new ArgumentException($"There are {logits.shape[0]} rows of logits but {classes.shape[0]} labels.", nameof(labels));
        return classes;
    }
}
