using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>
/// RKD angle loss (Park et al., CVPR 2019), as in the authors' code: for every triplet (i, j, k) the cosine of the angle at
/// i between the unit vectors towards j and k, <c>⟨e_ij, e_ik⟩</c> with <c>e_ij = (x_j − x_i)/‖x_j − x_i‖</c> (0 when j = i),
/// compared between student and teacher with the smooth-L1 (β = 1) loss averaged over all N³ entries. Memory is N³, so
/// keep batches moderate (N = 128 is 2 M entries).
/// </summary>
public sealed class RkdAngleLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    public RkdAngleLoss() : base(nameof(RkdAngleLoss))
    {
    }

    /// <inheritdoc/>
    protected override int MinimumBatchSize => 2;

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor student, Tensor teacher) =>
        nn.functional.smooth_l1_loss(Angles(student), Angles(teacher));

    private static Tensor Angles(Tensor embeddings)
    {
        Tensor differences = embeddings.unsqueeze(0) - embeddings.unsqueeze(1); // [i, j] = x_j − x_i
        Tensor directions = nn.functional.normalize(differences, p: 2, dim: 2);
        return directions.bmm(directions.transpose(1, 2)).flatten();
    }
}
