using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Reducers;

/// <summary>
/// Averages the values of each anchor first, then reduces the per-anchor means with an inner reducer (PML
/// <c>PerAnchorReducer</c>, mean by default): every anchor counts once however many pairs or triplets it has.
/// </summary>
public sealed class PerAnchorReducer : LossReducer
{
    /// <summary>Creates the reducer.</summary>
    /// <param name="inner">Reduces the per-anchor means; <see cref="MeanReducer"/> when null.</param>
    /// <param name="countNonZeroOnly">Average each anchor over its values above zero only (PML's AvgNonZero flavour).</param>
    public PerAnchorReducer(LossReducer? inner = null, bool countNonZeroOnly = false)
    {
        Inner = inner ?? new MeanReducer();
        CountNonZeroOnly = countNonZeroOnly;
    }

    /// <summary>Reduces the per-anchor means.</summary>
    public LossReducer Inner { get; }

    /// <summary>Whether each anchor is averaged over its positive values only.</summary>
    public bool CountNonZeroOnly { get; }

    /// <inheritdoc />
    protected override Tensor ReduceCore(LossTerms terms, Tensor labels)
    {
        Tensor anchors = terms.AnchorIndices();
        long batch = Math.Max(labels.shape[0], anchors.max().item<long>() + 1);
        Tensor values = terms.Values;
        Tensor counted = CountNonZeroOnly ? values.gt(0).to(values.dtype) : ones_like(values);
        Tensor sums = zeros(batch, dtype: values.dtype, device: values.device).index_add(0, anchors, values * counted, 1);
        Tensor counts = zeros(batch, dtype: values.dtype, device: values.device).index_add(0, anchors, counted, 1);
        Tensor present = counts.gt(0).nonzero().squeeze(1);
        Tensor means = sums.index_select(0, present) / counts.index_select(0, present);
        return Inner.Reduce(new LossTerms(means, LossTermKind.Element, present), labels);
    }
}
