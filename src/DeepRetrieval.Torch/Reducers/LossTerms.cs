using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Reducers;

/// <summary>
/// The unreduced values of one part of a loss (PML's <c>{"losses", "indices", "reduction_type"}</c>): a 1-D tensor of values,
/// the batch index of each value's anchor, and what the values are. A loss made of parts (the positive and negative halves of
/// the contrastive loss) returns one <see cref="LossTerms"/> per part; each is reduced and the results are summed.
/// </summary>
public sealed class LossTerms
{
    /// <summary>Creates the terms.</summary>
    /// <param name="values">1-D values, or a scalar for <see cref="LossTermKind.AlreadyReduced"/>.</param>
    /// <param name="kind">What the values belong to.</param>
    /// <param name="anchors">1-D int64 batch index of each value's anchor; null for <see cref="LossTermKind.Element"/> terms (value i is element i) and already reduced ones.</param>
    /// <exception cref="ArgumentException">The shapes do not match the kind.</exception>
    public LossTerms(Tensor values, LossTermKind kind, Tensor? anchors = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (kind == LossTermKind.AlreadyReduced)
        {
            if (values.numel() != 1) throw new ArgumentException($"Already reduced terms hold one value; got shape [{string.Join(", ", values.shape)}].", nameof(values));
        }
        else
        {
            if (values.dim() != 1) throw new ArgumentException($"Loss terms are a 1-D tensor; got shape [{string.Join(", ", values.shape)}].", nameof(values));
            if (anchors is null && kind != LossTermKind.Element)
                throw new ArgumentException($"{kind} terms need the anchor index of each value.", nameof(anchors));
            if (anchors is not null && (anchors.dim() != 1 || anchors.shape[0] != values.shape[0]))
                throw new ArgumentException($"Anchors must be 1-D with one index per value ({values.shape[0]}); got shape [{string.Join(", ", anchors.shape)}].", nameof(anchors));
        }
        Values = values;
        Kind = kind;
        Anchors = anchors;
    }

    /// <summary>The unreduced values.</summary>
    public Tensor Values { get; }

    /// <summary>What the values belong to.</summary>
    public LossTermKind Kind { get; }

    /// <summary>Batch index of each value's anchor, or null when value i belongs to element i.</summary>
    public Tensor? Anchors { get; }

    /// <summary>The anchor index of every value: <see cref="Anchors"/>, or 0..n−1 for element terms without explicit anchors.</summary>
    public Tensor AnchorIndices() => Anchors ?? arange(Values.shape[0], dtype: ScalarType.Int64, device: Values.device);
}
