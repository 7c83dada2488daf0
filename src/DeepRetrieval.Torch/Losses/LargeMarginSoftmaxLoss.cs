using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// L-Softmax, the large-margin softmax loss (Liu et al. 2016, "Large-Margin Softmax Loss for Convolutional Neural Networks"; PML
/// <c>LargeMarginSoftmaxLoss</c>): like <see cref="SphereFaceLoss"/> but the class weights keep their norms, so the target logit is
/// <c>s‖w_y‖‖x‖ψ(θ_y)</c> and the others <c>s‖w_c‖‖x‖cos θ_c</c>, with <c>ψ(θ) = (−1)^k cos(mθ) − 2k</c> for θ ∈ [kπ/m, (k+1)π/m];
/// <c>ℓᵢ = −log softmax(zᵢ)[yᵢ]</c>, averaged over the batch. m = 4 and s = 1 as PML. W is drawn from N(0, 1) as PML.
/// <see cref="SphereFaceLoss"/> derives from it, as in PML, and only drops the weight norms.
/// </summary>
public class LargeMarginSoftmaxLoss : ClassifierLoss
{
    private readonly MultipleAngle _psi;

    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="margin">m ≥ 1, the integer angle multiplier.</param>
    /// <param name="scale">s &gt; 0, an extra factor on the logits.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">m is below 1 or the scale is not positive.</exception>
    public LargeMarginSoftmaxLoss(int numClasses, int embeddingSize, int margin = 4, double scale = 1, LogitLoss? criterion = null, LossReducer? reducer = null)
        : this(nameof(LargeMarginSoftmaxLoss), numClasses, embeddingSize, margin, scale, criterion, reducer)
    {
    }

    /// <summary>Creates the loss under a derived module's name.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="margin">m ≥ 1, the integer angle multiplier.</param>
    /// <param name="scale">s &gt; 0, an extra factor on the logits.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">m is below 1 or the scale is not positive.</exception>
    protected LargeMarginSoftmaxLoss(string name, int numClasses, int embeddingSize, int margin, double scale, LogitLoss? criterion, LossReducer? reducer)
        : base(name, numClasses, embeddingSize, numClasses, 1, new CosineSimilarity(), criterion, reducer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(margin, 1);
        if (!(scale > 0) || double.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        Margin = margin;
        Scale = scale;
        _psi = new MultipleAngle(margin);
    }

    /// <summary>m, the angle multiplier.</summary>
    public int Margin { get; }

    /// <summary>s, an extra factor on the logits.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings) => CosineToWeights(embeddings) * Magnitudes(embeddings);

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels)
    {
        Tensor cosine = CosineToWeights(embeddings);
        return (ReplaceTargets(cosine, labels, _psi.Psi(TargetValues(cosine, labels))) * Magnitudes(embeddings), labels);
    }

    /// <summary>What multiplies each cosine (or ψ): <c>s‖x‖‖w_c‖</c>, a batch × classes (or broadcastable) tensor.</summary>
    /// <param name="embeddings">The batch.</param>
    protected virtual Tensor Magnitudes(Tensor embeddings) =>
        embeddings.norm(1, keepdim: true) * WeightLike(embeddings).norm(1).unsqueeze(0) * Scale;
}
