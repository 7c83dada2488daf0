using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Reducers;

/// <summary>
/// The mean over values above a threshold (PML <c>AvgNonZeroReducer</c>; threshold 0): with hinge losses most triplets are
/// inactive, and averaging over all of them shrinks the gradient as training succeeds. Zero when no value passes.
/// </summary>
public sealed class AvgNonZeroReducer : LossReducer
{
    /// <summary>Creates the reducer.</summary>
    /// <param name="threshold">Values strictly above it count.</param>
    public AvgNonZeroReducer(double threshold = 0) => Threshold = threshold;

    /// <summary>Values strictly above this count.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    protected override Tensor ReduceCore(LossTerms terms, Tensor labels)
    {
        Tensor active = terms.Values.gt(Threshold);
        Tensor count = active.sum();
        // Dividing the masked sum by max(count, 1) keeps the empty case at 0 with a zero gradient.
        return (terms.Values * active).sum() / count.clamp_min(1).to(terms.Values.dtype);
    }
}
