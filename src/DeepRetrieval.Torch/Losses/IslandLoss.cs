using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Island loss (Cai et al., "Island Loss for Learning Discriminative Features in Facial Expression Recognition", FG 2018):
/// the <see cref="CenterLoss"/> plus a term that pushes the class centres apart,
/// <c>L_IL = L_C + λ₁ Σ_j Σ_{k≠j} (cos(c_j, c_k) + 1)</c> over ordered pairs of all centres. The island term depends only on
/// the centres, so it adds to the value but not to the embeddings' gradient; <see cref="CenterLoss.UpdateCenters"/> applies it
/// through the paper's centre update, which adds
/// <c>λ₁/(N−1) Σ_{k≠j} ( c_k / (‖c_k‖ ‖c_j‖) − (c_k·c_j) c_j / (‖c_k‖ ‖c_j‖³) )</c> to Δc_j (N = number of classes).
/// The island term costs an N × N matrix per call.
/// </summary>
public sealed class IslandLoss : CenterLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">Number of classes (centres), at least 2.</param>
    /// <param name="embeddingSize">Embedding dimension.</param>
    /// <param name="lambda1">λ₁, the weight of the island term (the paper uses 10).</param>
    /// <param name="alpha">α, the centre learning rate in [0, 1] (0.5 as in the center loss paper).</param>
    /// <param name="reducer">Reduces the center-loss values; <see cref="MeanReducer"/> when null.</param>
    /// <exception cref="ArgumentException">Fewer than 2 classes, λ₁ negative or not finite, or α outside [0, 1].</exception>
    public IslandLoss(int numClasses, int embeddingSize, double lambda1 = 10, double alpha = 0.5, LossReducer? reducer = null)
        : base(nameof(IslandLoss), numClasses, embeddingSize, alpha, reducer)
    {
        if (numClasses < 2) throw new ArgumentException($"The island term needs at least 2 classes; got {numClasses}.", nameof(numClasses));
        if (!(lambda1 >= 0) || double.IsInfinity(lambda1)) throw new ArgumentException($"Lambda1 must be finite and non-negative; got {lambda1}.", nameof(lambda1));
        Lambda1 = lambda1;
    }

    /// <summary>λ₁, the weight of the island term.</summary>
    public double Lambda1 { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ExtraTerms(Tensor centers)
    {
        Tensor unit = nn.functional.normalize(centers, p: 2, dim: 1, eps: 1e-12);
        Tensor cosines = unit.matmul(unit.t());
        // Σ_{j≠k}(cos + 1) = Σ_all cos − Σ_j cos(c_j, c_j) + N(N − 1).
        long n = centers.shape[0];
        Tensor island = cosines.sum() - cosines.diagonal().sum() + n * (n - 1);
        yield return new LossTerms(Lambda1 * island, LossTermKind.AlreadyReduced);
    }

    /// <inheritdoc />
    protected override Tensor ExtraCenterDelta(Tensor centers)
    {
        Tensor norms = centers.norm(1, keepdim: true).clamp_min(1e-12);
        Tensor unit = centers / norms;
        Tensor cosineSums = unit.matmul(unit.t()).sum(1, keepdim: true) - 1;
        Tensor otherUnits = unit.sum(0, keepdim: true) - unit;
        return Lambda1 / (centers.shape[0] - 1) * (otherUnits - cosineSums * unit) / norms;
    }
}
