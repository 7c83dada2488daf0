using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Reducers;

/// <summary>The sum of all values (PML <c>SumReducer</c>).</summary>
public sealed class SumReducer : LossReducer
{
    /// <inheritdoc />
    protected override Tensor ReduceCore(LossTerms terms, Tensor labels) => terms.Values.sum();
}
