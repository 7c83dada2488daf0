using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// SphereFace, the angular softmax A-Softmax (Liu et al. 2017, "SphereFace: Deep Hypersphere Embedding for Face Recognition";
/// PML <c>SphereFaceLoss</c>, a <c>LargeMarginSoftmaxLoss</c>): with θ_c the angle between the embedding x and class weight c
/// (weights normalised), <c>ℓᵢ = −log( e^{s‖x‖ψ(θ_y)} / (e^{s‖x‖ψ(θ_y)} + Σ_{c≠y} e^{s‖x‖cos θ_c}) )</c>, averaged over the batch,
/// with the monotonic extension of cos(mθ), <c>ψ(θ) = (−1)^k cos(mθ) − 2k</c> for θ ∈ [kπ/m, (k+1)π/m]. cos(mθ) is the
/// multiple-angle polynomial <c>Σ_n (−1)^n C(m, 2n) cos^{m−2n}θ (1 − cos²θ)^n</c> in cos θ (no acos in the differentiated path, so no
/// NaN at cos θ = ±1); k is not differentiated. m is an integer (PML's default 4); s = 1 as PML. W is drawn from N(0, 1) as PML.
/// </summary>
public sealed class SphereFaceLoss : LargeMarginSoftmaxLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="margin">m ≥ 1, the integer angle multiplier.</param>
    /// <param name="scale">s &gt; 0, an extra factor on the logits.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">m is below 1 or the scale is not positive.</exception>
    public SphereFaceLoss(int numClasses, int embeddingSize, int margin = 4, double scale = 1, LogitLoss? criterion = null, LossReducer? reducer = null)
        : base(nameof(SphereFaceLoss), numClasses, embeddingSize, margin, scale, criterion, reducer)
    {
    }

    /// <inheritdoc />
    protected override Tensor Magnitudes(Tensor embeddings) => embeddings.norm(1, keepdim: true) * Scale;
}
