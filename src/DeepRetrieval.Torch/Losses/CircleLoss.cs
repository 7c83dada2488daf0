using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Circle loss in its pair form (Sun et al., "Circle Loss: A Unified Perspective of Pair Similarity Optimization", CVPR 2020),
/// as pytorch-metric-learning's <c>CircleLoss</c>, on cosine similarity s. With O_p = 1 + m, O_n = −m, Δ_p = 1 − m, Δ_n = m and
/// self-paced weights α_p = [O_p − s_p]₊, α_n = [s_n − O_n]₊ (treated as constants, as in the paper), for anchor i:
/// <c>L_i = softplus( logsumexp_{p∈P_i}(−γ α_p (s_p − Δ_p)) + logsumexp_{n∈N_i}(γ α_n (s_n − Δ_n)) )</c>
/// = log(1 + Σ_p Σ_n exp(γ(α_n (s_n − Δ_n) − α_p (s_p − Δ_p)))). An anchor without a positive or a negative gives 0.
/// One value per batch element, reduced by <see cref="AvgNonZeroReducer"/> by default.
/// </summary>
public sealed class CircleLoss : MetricLoss
{
    /// <summary>Creates the loss with PML's defaults (the paper's fine-grained retrieval setting).</summary>
    /// <param name="m">The relaxation margin m (PML 0.4).</param>
    /// <param name="gamma">The scale γ (PML 80).</param>
    /// <param name="reducer">Reduces the per-element values; <see cref="AvgNonZeroReducer"/> when null.</param>
    /// <exception cref="ArgumentException">m is not finite, or γ is not a finite positive number.</exception>
    public CircleLoss(double m = 0.4, double gamma = 80, LossReducer? reducer = null)
        : base(nameof(CircleLoss), new CosineSimilarity(), reducer ?? new AvgNonZeroReducer())
    {
        if (!double.IsFinite(m)) throw new ArgumentException($"The margin m must be finite; got {m}.", nameof(m));
        if (!(gamma > 0) || double.IsInfinity(gamma)) throw new ArgumentException($"Gamma must be a finite positive number; got {gamma}.", nameof(gamma));
        M = m;
        Gamma = gamma;
    }

    /// <summary>The relaxation margin m.</summary>
    public double M { get; }

    /// <summary>The scale γ.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        PairTuples pairs = input.Pairs();
        Tensor similarity = Distance.Pairwise(input.Embeddings, input.ReferenceEmbeddings);
        Tensor positiveMask = PairLossMath.Mask(similarity, pairs.PositiveAnchors, pairs.Positives);
        Tensor negativeMask = PairLossMath.Mask(similarity, pairs.NegativeAnchors, pairs.Negatives);
        Tensor constant = similarity.detach();
        Tensor positiveLogits = -Gamma * nn.functional.relu(1 + M - constant) * (similarity - (1 - M));
        Tensor negativeLogits = Gamma * nn.functional.relu(constant + M) * (similarity - M);
        Tensor positive = PairLossMath.MaskedLogSumExp(positiveLogits, positiveMask, addOne: false, dimension: 1);
        Tensor negative = PairLossMath.MaskedLogSumExp(negativeLogits, negativeMask, addOne: false, dimension: 1);
        Tensor complete = positiveMask.any(1).logical_and(negativeMask.any(1));
        Tensor values = nn.functional.softplus(positive + negative) * complete.to(similarity.dtype);
        yield return new LossTerms(values, LossTermKind.Element);
    }
}
