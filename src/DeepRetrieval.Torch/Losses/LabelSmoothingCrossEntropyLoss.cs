using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Softmax cross-entropy with label smoothing over given logits, as PyTorch's <c>nn.CrossEntropyLoss(label_smoothing=ε)</c>
/// (Szegedy et al. 2016, "Rethinking the Inception Architecture"): the target is (1 − ε) on the label plus ε/C on every class, so
/// <c>ℓᵢ = (1 − ε)·(−log p_{i,yᵢ}) + (ε/C)·Σ_c (−log p_{i,c})</c> with <c>p = softmax(logits)</c>, averaged over the batch by default.
/// With ε = 0 it is plain cross-entropy. It works on logits so any head can use it: call it directly, or make it the
/// <see cref="ClassifierLoss.Criterion"/> of <see cref="LinearClassifierLoss"/> (a classifier over its own W) or of a margin loss.
/// </summary>
public sealed class LabelSmoothingCrossEntropyLoss : LogitLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="smoothing">ε in [0, 1]: the probability mass spread evenly over all classes.</param>
    /// <param name="reducer">Reduction when called on its own; null means the mean, as PyTorch.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="smoothing"/> is outside [0, 1].</exception>
    public LabelSmoothingCrossEntropyLoss(double smoothing = 0.1, LossReducer? reducer = null)
        : base(nameof(LabelSmoothingCrossEntropyLoss), reducer ?? new MeanReducer())
    {
        if (!(smoothing >= 0 && smoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, "Label smoothing must lie in [0, 1].");
        Smoothing = smoothing;
    }

    /// <summary>ε: the probability mass spread evenly over all classes.</summary>
    public double Smoothing { get; }

    /// <inheritdoc />
    protected override LossTerms ComputeTerms(Tensor logits, Tensor labels)
    {
        Tensor logProbabilities = nn.functional.log_softmax(logits, 1);
        Tensor target = -logProbabilities.gather(1, labels.unsqueeze(1)).squeeze(1);
        if (Smoothing == 0) return new LossTerms(target, LossTermKind.Element);
        Tensor uniform = -logProbabilities.mean(dimensions: [1]);
        return new LossTerms(target * (1 - Smoothing) + uniform * Smoothing, LossTermKind.Element);
    }
}
