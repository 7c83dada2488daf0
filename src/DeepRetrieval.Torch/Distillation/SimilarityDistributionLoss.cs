using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>
/// Similarity-distribution distillation: each row of the batch's cosine-similarity matrix, without the trivial self
/// similarity, divided by a temperature τ and softmaxed, is a distribution over the other samples ("who are my neighbours");
/// the loss is <c>τ² · mean_i KL(p_teacher,i ‖ p_student,i)</c>. The τ² factor (Hinton et al. 2015) keeps gradient sizes
/// comparable across temperatures; a lower τ stresses the nearest neighbours, which is what retrieval ranks by.
/// </summary>
public sealed class SimilarityDistributionLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="temperature">Softmax temperature τ &gt; 0 for cosine similarities (0.1 sharpens towards the top neighbours).</param>
    /// <exception cref="ArgumentOutOfRangeException">τ is not positive and finite.</exception>
    public SimilarityDistributionLoss(double temperature = 0.1) : base(nameof(SimilarityDistributionLoss))
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive and finite.");
        Temperature = temperature;
    }

    /// <summary>Softmax temperature τ.</summary>
    public double Temperature { get; }

    /// <inheritdoc/>
    protected override int MinimumBatchSize => 2;

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor student, Tensor teacher)
    {
        Tensor logStudent = LogNeighbourDistribution(student);
        Tensor logTeacher = LogNeighbourDistribution(teacher);
        Tensor divergence = (logTeacher.exp() * (logTeacher - logStudent)).sum(1);
        return divergence.mean() * (Temperature * Temperature);
    }

    private Tensor LogNeighbourDistribution(Tensor embeddings)
    {
        Tensor unit = nn.functional.normalize(embeddings, p: 2, dim: 1, eps: 1e-12);
        Tensor similarities = PairwiseGeometry.WithoutDiagonal(unit.matmul(unit.t())) / Temperature;
        return nn.functional.log_softmax(similarities, 1);
    }
}
