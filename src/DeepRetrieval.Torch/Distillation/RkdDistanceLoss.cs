using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>
/// RKD distance loss (Park, Kim, Lu &amp; Cho, "Relational Knowledge Distillation", CVPR 2019), as in the authors' code:
/// pairwise Euclidean distances of each set are divided by their mean over distinct pairs, and the N × N matrices are
/// compared with the smooth-L1 (Huber, β = 1) loss averaged over all N² entries. Only relative distances are transferred,
/// so the student's width and scale are free. The paper weights it 25 (with 50 for <see cref="RkdAngleLoss"/>).
/// </summary>
public sealed class RkdDistanceLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    public RkdDistanceLoss() : base(nameof(RkdDistanceLoss))
    {
    }

    /// <inheritdoc/>
    protected override int MinimumBatchSize => 2;

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor student, Tensor teacher) =>
        nn.functional.smooth_l1_loss(Normalised(student), Normalised(teacher));

    private static Tensor Normalised(Tensor embeddings)
    {
        long n = embeddings.shape[0];
        Tensor distances = PairwiseGeometry.Distances(embeddings);
        // Mean over the N(N − 1) distinct pairs; the floor keeps an all-coincident batch finite (its distances are all 0).
        Tensor mean = (distances.sum() / (n * (n - 1))).clamp_min(1e-12);
        return distances / mean;
    }
}
