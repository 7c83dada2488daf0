using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Reducers;

/// <summary>
/// Multiplies each value by the weight of its anchor's class, then takes the mean (PML <c>ClassWeightedReducer</c>): a way to
/// give rare classes more say. Weights are indexed by label, so labels must lie in 0..weights.Length−1.
/// </summary>
public sealed class ClassWeightedReducer : LossReducer
{
    // Kept as managed values: a tensor created in the constructor would die with whatever dispose scope was open then.
    private readonly double[] _weights;

    /// <summary>Creates the reducer.</summary>
    /// <param name="weights">One non-negative finite weight per class, indexed by label.</param>
    /// <exception cref="ArgumentException">The weights are empty, negative or not finite.</exception>
    public ClassWeightedReducer(IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException("At least one class weight is needed.", nameof(weights));
        for (int i = 0; i < weights.Count; i++)
            if (!(weights[i] >= 0) || double.IsInfinity(weights[i]))
                throw new ArgumentException($"Class weight {i} is {weights[i]}; weights must be finite and non-negative.", nameof(weights));
        _weights = weights.ToArray();
    }

    /// <inheritdoc />
    protected override Tensor ReduceCore(LossTerms terms, Tensor labels)
    {
        Tensor classes = labels.index_select(0, terms.AnchorIndices());
        long largest = classes.max().item<long>();
        if (largest >= _weights.Length || classes.min().item<long>() < 0)
            throw new ArgumentException($"Label {largest} has no class weight; {_weights.Length} weights were given.", nameof(labels));
        Tensor weights = tensor(_weights, terms.Values.dtype, terms.Values.device).index_select(0, classes);
        return (terms.Values * weights).mean();
    }
}
