using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Online hard example mining for a classifier (Shrivastava, Gupta &amp; Girshick 2016, "Training Region-based Object Detectors with
/// Online Hard Example Mining"): the softmax cross-entropy <c>ℓᵢ = −log softmax(logits)[i, yᵢ]</c> of every element, of which only the
/// k largest are kept (k fixed, or ⌈ratio·n⌉ of the batch, at least one); the loss is their mean by default. Selection is not
/// differentiated; the kept values are.
/// </summary>
public sealed class OhemLoss : LogitLoss
{
    /// <summary>Keeps a fixed number of the hardest elements of each batch (all of them when the batch is smaller).</summary>
    /// <param name="keepCount">k ≥ 1.</param>
    /// <param name="reducer">Reduction of the kept values when called on its own; null means the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keepCount"/> is below 1.</exception>
    public OhemLoss(int keepCount, LossReducer? reducer = null) : base(nameof(OhemLoss), reducer ?? new MeanReducer())
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keepCount, 1);
        KeepCount = keepCount;
    }

    /// <summary>Keeps a fraction of the hardest elements of each batch.</summary>
    /// <param name="keepRatio">Fraction in (0, 1]; ⌈ratio·n⌉ elements are kept.</param>
    /// <param name="reducer">Reduction of the kept values when called on its own; null means the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keepRatio"/> is outside (0, 1].</exception>
    public OhemLoss(double keepRatio = 0.7, LossReducer? reducer = null) : base(nameof(OhemLoss), reducer ?? new MeanReducer())
    {
        if (!(keepRatio > 0 && keepRatio <= 1)) throw new ArgumentOutOfRangeException(nameof(keepRatio), keepRatio, "The kept fraction must lie in (0, 1].");
        KeepRatio = keepRatio;
    }

    /// <summary>The fixed number of kept elements, or null when a fraction is kept.</summary>
    public int? KeepCount { get; }

    /// <summary>The kept fraction, or null when a fixed number is kept.</summary>
    public double? KeepRatio { get; }

    /// <summary>How many of <paramref name="batchSize"/> elements are kept.</summary>
    /// <param name="batchSize">Elements in the batch.</param>
    public long KeptCount(long batchSize) =>
        batchSize == 0 ? 0 : Math.Min(batchSize, KeepCount ?? Math.Max(1, (long)Math.Ceiling(KeepRatio!.Value * batchSize - 1e-9)));

    /// <inheritdoc />
    protected override LossTerms ComputeTerms(Tensor logits, Tensor labels)
    {
        Tensor losses = NegativeLogLikelihood(logits, labels);
        long k = KeptCount(losses.shape[0]);
        if (k == losses.shape[0]) return new LossTerms(losses, LossTermKind.Element);
        Tensor hardest = losses.detach().topk((int)k).indexes;
        return new LossTerms(losses.index_select(0, hardest), LossTermKind.Element, hardest);
    }
}
