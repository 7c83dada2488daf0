using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Reducers;

/// <summary>The mean of all values (PML <c>MeanReducer</c>).</summary>
public sealed class MeanReducer : LossReducer
{
    /// <inheritdoc />
    protected override Tensor ReduceCore(LossTerms terms, Tensor labels) => terms.Values.mean();
}
