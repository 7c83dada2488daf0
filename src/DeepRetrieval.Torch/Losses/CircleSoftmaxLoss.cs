using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Circle loss with class-level labels (Sun et al. 2020, "Circle Loss: A Unified Perspective of Pair Similarity Optimization",
/// Eq. 4 with class weights as proxies; fast-reid's <c>CircleSoftmax</c>): with <c>s_c = cos(x, w_c)</c>, positive similarity
/// s_p = s_y and negative similarities s_n = s_c (c ≠ y), the self-paced weights <c>α_p = [1 + m − s_p]₊</c> and
/// <c>α_n = [s_n + m]₊</c> (relu'd distance to the optima O_p = 1 + m, O_n = −m; not differentiated, as in the paper's code) and
/// margins Δ_p = 1 − m, Δ_n = m, the loss is softmax cross-entropy over the logits
/// <c>γ·α_p(s_p − Δ_p)</c> for the target class and <c>γ·α_n(s_n − Δ_n)</c> for the others:
/// <c>ℓᵢ = log(1 + Σ_{c≠y} e^{γα_n(s_n − Δ_n)} · e^{−γα_p(s_p − Δ_p)})</c>, averaged over the batch.
/// Defaults are the paper's face-recognition settings m = 0.25, γ = 256. W is drawn from N(0, 1).
/// </summary>
public sealed class CircleSoftmaxLoss : ClassifierLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="margin">m, the relaxation margin.</param>
    /// <param name="gamma">γ &gt; 0, the scale.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">The margin is not finite or γ is not positive.</exception>
    public CircleSoftmaxLoss(int numClasses, int embeddingSize, double margin = 0.25, double gamma = 256, LogitLoss? criterion = null, LossReducer? reducer = null)
        : base(nameof(CircleSoftmaxLoss), numClasses, embeddingSize, numClasses, 1, new CosineSimilarity(), criterion, reducer)
    {
        if (!double.IsFinite(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be finite.");
        if (!(gamma > 0) || double.IsInfinity(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be positive and finite.");
        Margin = margin;
        Gamma = gamma;
    }

    /// <summary>m, the relaxation margin.</summary>
    public double Margin { get; }

    /// <summary>γ, the scale.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings) => CosineToWeights(embeddings) * Gamma;

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels)
    {
        Tensor cosine = CosineToWeights(embeddings);
        Tensor detached = cosine.detach();
        Tensor negative = (detached + Margin).relu() * (cosine - Margin) * Gamma;
        Tensor targetCosine = TargetValues(cosine, labels);
        Tensor positive = (1 + Margin - targetCosine.detach()).relu() * (targetCosine - (1 - Margin)) * Gamma;
        return (ReplaceTargets(negative, labels, positive), labels);
    }
}
