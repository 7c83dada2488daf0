using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Reducers;

/// <summary>
/// Turns a loss's unreduced values into a scalar (PML's reducers). Reduction is a choice separate from the loss: the same
/// triplet loss can average over all triplets (<see cref="MeanReducer"/>), over the active ones (<see cref="AvgNonZeroReducer"/>),
/// per anchor (<see cref="PerAnchorReducer"/>) or weighted by class (<see cref="ClassWeightedReducer"/>).
/// Empty terms reduce to zero that is still connected to the graph, so backward gives a zero gradient instead of failing.
/// </summary>
public abstract class LossReducer
{
    /// <summary>Reduces <paramref name="terms"/> to a scalar.</summary>
    /// <param name="terms">The values of one part of a loss.</param>
    /// <param name="labels">The batch's labels (1-D int64), for reducers that weigh by class.</param>
    public Tensor Reduce(LossTerms terms, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(labels);
        if (terms.Kind == LossTermKind.AlreadyReduced) return terms.Values.reshape([]);
        if (terms.Values.shape[0] == 0) return terms.Values.sum();
        return ReduceCore(terms, labels);
    }

    /// <summary>Reduces non-empty, not yet reduced terms.</summary>
    /// <param name="terms">At least one value.</param>
    /// <param name="labels">The batch's labels.</param>
    protected abstract Tensor ReduceCore(LossTerms terms, Tensor labels);
}
