using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>
/// Similarity-preserving distillation (Tung &amp; Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019): the
/// batch Gram matrices <c>G = F Fᵀ</c> of student and teacher, each row L2-normalised, should agree:
/// <c>L = ‖G̃_s − G̃_t‖²_F / N²</c>. Only the pattern of similarities within the batch is transferred, so widths may differ.
/// </summary>
public sealed class SimilarityPreservingLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    public SimilarityPreservingLoss() : base(nameof(SimilarityPreservingLoss))
    {
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor student, Tensor teacher)
    {
        long n = student.shape[0];
        Tensor difference = NormalisedGram(student) - NormalisedGram(teacher);
        return difference.square().sum() / (n * (double)n);
    }

    private static Tensor NormalisedGram(Tensor embeddings) =>
        nn.functional.normalize(embeddings.matmul(embeddings.t()), p: 2, dim: 1, eps: 1e-12);
}
