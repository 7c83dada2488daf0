using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Supervised contrastive loss (Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, the L_out form), as
/// pytorch-metric-learning's <c>SupConLoss</c>. For anchor i with positives P(i) and negatives N(i), A(i) = P(i) ∪ N(i):
/// <c>L_i = −(1/|P(i)|) Σ_{p∈P(i)} [ s_ip/τ − log Σ_{a∈A(i)} exp(s_ia/τ) ]</c>, with s the similarity (or −d for a distance);
/// anchors without a positive give 0. One value per batch element, reduced by <see cref="AvgNonZeroReducer"/> by default;
/// zero when the batch has no positive or no negative pair.
/// </summary>
public sealed class SupConLoss : MetricLoss
{
    /// <summary>Creates the loss with PML's defaults.</summary>
    /// <param name="temperature">τ (PML 0.1).</param>
    /// <param name="distance">How embeddings are compared; <see cref="CosineSimilarity"/> when null.</param>
    /// <param name="reducer">Reduces the per-element values; <see cref="AvgNonZeroReducer"/> when null.</param>
    /// <exception cref="ArgumentException">τ is not a finite positive number.</exception>
    public SupConLoss(double temperature = 0.1, EmbeddingDistance? distance = null, LossReducer? reducer = null)
        : base(nameof(SupConLoss), distance ?? new CosineSimilarity(), reducer ?? new AvgNonZeroReducer())
    {
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentException($"The temperature must be a finite positive number; got {temperature}.", nameof(temperature));
        Temperature = temperature;
    }

    /// <summary>τ: smaller values sharpen the softmax.</summary>
    public double Temperature { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        PairTuples pairs = input.Pairs();
        if (pairs.PositiveCount == 0 || pairs.NegativeCount == 0) yield break;
        Tensor matrix = Distance.Pairwise(input.Embeddings, input.ReferenceEmbeddings);
        Tensor logits = (Distance.IsSimilarity ? matrix : -matrix) / Temperature;
        logits = logits - logits.max(1, keepdim: true).values.detach();
        Tensor positiveMask = PairLossMath.Mask(logits, pairs.PositiveAnchors, pairs.Positives);
        Tensor negativeMask = PairLossMath.Mask(logits, pairs.NegativeAnchors, pairs.Negatives);
        Tensor denominator = PairLossMath.MaskedLogSumExp(logits, positiveMask.logical_or(negativeMask), addOne: false, dimension: 1);
        Tensor logProbability = logits - denominator.unsqueeze(1);
        Tensor positives = positiveMask.to(logits.dtype);
        Tensor meanLogProbability = (positives * logProbability).sum(1) / positives.sum(1).clamp_min(1);
        yield return new LossTerms(-meanLogProbability, LossTermKind.Element);
    }
}
