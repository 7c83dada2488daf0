using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// A batch mixed by mixup or cutmix: the trainer computes the loss as <c>λ·L(LabelsA) + (1 − λ)·L(LabelsB)</c> on the
/// embeddings of <see cref="Images"/>.
/// </summary>
/// <param name="Images">The mixed images.</param>
/// <param name="LabelsA">The labels of the first images mixed.</param>
/// <param name="LabelsB">The labels of the second images mixed.</param>
/// <param name="Lambda">λ, the weight of <paramref name="LabelsA"/>, in [0, 1].</param>
public sealed record MixedBatch(Tensor Images, Tensor LabelsA, Tensor LabelsB, double Lambda);
