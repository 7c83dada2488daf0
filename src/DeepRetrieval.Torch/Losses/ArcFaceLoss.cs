using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// ArcFace, the additive angular margin loss (Deng et al. 2019, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition";
/// PML <c>ArcFaceLoss</c>): with θ_c the angle between the embedding and class weight c,
/// <c>ℓᵢ = −log( e^{s·φ(θ_y)} / (e^{s·φ(θ_y)} + Σ_{c≠y} e^{s·cos θ_c}) )</c>, averaged over the batch, where
/// <c>φ(θ) = cos(θ + m)</c> while θ + m ≤ π and, beyond, the monotonic fall-back <c>φ(θ) = cos θ − m·sin m</c> (insightface's
/// <c>th = cos(π − m)</c>, <c>mm = sin(π − m)·m</c>; PML does the same). With <see cref="EasyMargin"/> the margin applies only
/// while cos θ &gt; 0 and φ(θ) = cos θ otherwise. cos(θ + m) is computed as <c>cos θ·cos m − sin θ·sin m</c> with
/// <c>sin θ = √(1 − cos²θ)</c> guarded at 0, so there is no NaN value or gradient at cos θ = ±1.
/// Margin m is in RADIANS as in the paper (default 0.5); PML's <c>margin</c> is in degrees: PML 28.6 ≈ 0.4992 rad. Scale s = 64.
/// W is drawn from N(0, 1) as PML.
/// </summary>
public sealed class ArcFaceLoss : ClassifierLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="margin">m in radians, in [0, π).</param>
    /// <param name="scale">s &gt; 0.</param>
    /// <param name="easyMargin">Apply the margin only where cos θ &gt; 0.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">The margin is outside [0, π) or the scale is not positive.</exception>
    public ArcFaceLoss(int numClasses, int embeddingSize, double margin = 0.5, double scale = 64, bool easyMargin = false,
        LogitLoss? criterion = null, LossReducer? reducer = null)
        : base(nameof(ArcFaceLoss), numClasses, embeddingSize, numClasses, 1, new CosineSimilarity(), criterion, reducer)
    {
        CheckMarginAndScale(margin, scale);
        Margin = margin;
        Scale = scale;
        EasyMargin = easyMargin;
    }

    /// <summary>m, the additive angular margin in radians.</summary>
    public double Margin { get; }

    /// <summary>s, the scale of the logits.</summary>
    public double Scale { get; }

    /// <summary>Whether the margin applies only where cos θ &gt; 0.</summary>
    public bool EasyMargin { get; }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings) => CosineToWeights(embeddings) * Scale;

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels)
    {
        Tensor cosine = CosineToWeights(embeddings);
        Tensor target = AngularMargin(TargetValues(cosine, labels), Margin, EasyMargin);
        return (ReplaceTargets(cosine, labels, target) * Scale, labels);
    }

    /// <summary>φ(θ) from cos θ: cos(θ + m) with the fall-back or easy-margin rule.</summary>
    /// <param name="cosine">cos θ (clamped to [−1, 1] here).</param>
    /// <param name="margin">m in radians.</param>
    /// <param name="easyMargin">Keep cos θ where cos θ ≤ 0.</param>
    internal static Tensor AngularMargin(Tensor cosine, double margin, bool easyMargin)
    {
        Tensor c = cosine.clamp(-1, 1);
        Tensor sineSquared = 1 - c * c;
        // The inner where keeps sqrt away from 0, where its derivative is infinite; the outer one puts the exact 0 back.
        Tensor positive = sineSquared.gt(1e-30);
        Tensor sine = where(positive, where(positive, sineSquared, ones_like(sineSquared)).sqrt(), zeros_like(sineSquared));
        Tensor shifted = c * Math.Cos(margin) - sine * Math.Sin(margin);
        if (easyMargin) return where(c.gt(0), shifted, c);
        // θ ≤ π − m  ⇔  cos θ ≥ cos(π − m).
        return where(c.ge(Math.Cos(Math.PI - margin)), shifted, c - margin * Math.Sin(margin));
    }

    /// <summary>Checks an angular margin and a scale.</summary>
    /// <param name="margin">m in radians.</param>
    /// <param name="scale">s.</param>
    internal static void CheckMarginAndScale(double margin, double scale)
    {
        if (!(margin >= 0 && margin < Math.PI))
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The angular margin is in radians and must lie in [0, π) (PML's degrees: multiply by π/180).");
        if (!(scale > 0) || double.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
    }
}
