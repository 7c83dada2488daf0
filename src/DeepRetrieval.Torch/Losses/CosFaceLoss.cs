using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// CosFace, the large margin cosine loss LMCL (Wang et al. 2018, "CosFace: Large Margin Cosine Loss for Deep Face Recognition";
/// PML <c>CosFaceLoss</c>): with <c>cos θ_c</c> the cosine between the embedding and class weight c,
/// <c>ℓᵢ = −log( e^{s(cos θ_y − m)} / (e^{s(cos θ_y − m)} + Σ_{c≠y} e^{s·cos θ_c}) )</c>, averaged over the batch.
/// Defaults are PML's: m = 0.35, s = 64. W is drawn from N(0, 1) as PML.
/// </summary>
public sealed class CosFaceLoss : ClassifierLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="margin">m, subtracted from the target cosine (same unit as PML).</param>
    /// <param name="scale">s &gt; 0.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">The margin is not finite or the scale is not positive.</exception>
    public CosFaceLoss(int numClasses, int embeddingSize, double margin = 0.35, double scale = 64, LogitLoss? criterion = null, LossReducer? reducer = null)
        : base(nameof(CosFaceLoss), numClasses, embeddingSize, numClasses, 1, new CosineSimilarity(), criterion, reducer)
    {
        if (!double.IsFinite(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be finite.");
        if (!(scale > 0) || double.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        Margin = margin;
        Scale = scale;
    }

    /// <summary>m, the cosine margin.</summary>
    public double Margin { get; }

    /// <summary>s, the scale of the logits.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings) => CosineToWeights(embeddings) * Scale;

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels)
    {
        Tensor cosine = CosineToWeights(embeddings);
        return (ReplaceTargets(cosine, labels, TargetValues(cosine, labels) - Margin) * Scale, labels);
    }
}
