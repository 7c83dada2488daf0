using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// A batch mixed by <see cref="Mixup"/> or <see cref="CutMix"/>: sample i is <see cref="Lambda"/> parts sample i
/// (label <see cref="LabelsA"/>[i]) and 1 − λ parts its partner (label <see cref="LabelsB"/>[i]). Train on it with
/// <c>λ·loss(output, labelsA) + (1 − λ)·loss(output, labelsB)</c>, which <see cref="Combine"/> computes.
/// </summary>
/// <param name="Images">N × C × H × W mixed images.</param>
/// <param name="LabelsA">The original labels.</param>
/// <param name="LabelsB">The partners' labels (the labels permuted as the images were).</param>
/// <param name="Lambda">Weight of the original sample, one value for the whole batch.</param>
public sealed record MixedBatch(Tensor Images, Tensor LabelsA, Tensor LabelsB, double Lambda)
{
    /// <summary>λ·loss(labelsA) + (1 − λ)·loss(labelsB) for a loss of the labels (e.g. cross-entropy of fixed logits).</summary>
    /// <param name="loss">The loss given a label tensor.</param>
    public Tensor Combine(Func<Tensor, Tensor> loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss(LabelsA) * Lambda + loss(LabelsB) * (1 - Lambda);
    }
}
