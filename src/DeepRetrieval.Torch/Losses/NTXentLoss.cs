using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// NT-Xent, the normalised temperature-scaled cross entropy of SimCLR (Chen et al. 2020), also known as InfoNCE (van den Oord
/// et al. 2018) and the SimCSE objective (Gao et al. 2021), as pytorch-metric-learning's <c>NTXentLoss</c>. Positives are
/// same-label pairs; each positive pair (a, p) is scored against every negative pair of its anchor:
/// <c>L_ap = −log( exp(s_ap/τ) / (exp(s_ap/τ) + Σ_{n∈N_a} exp(s_an/τ)) )</c>, with s the similarity (or −d for a
/// distance). A mined negative that occurs twice counts twice, as in PML. One value per positive pair, reduced by
/// <see cref="MeanReducer"/> by default; zero when the batch has no positive or no negative pair. For self-supervised use
/// give the two views of image i the same label i.
/// </summary>
public sealed class NTXentLoss : MetricLoss
{
    /// <summary>Creates the loss with PML's defaults.</summary>
    /// <param name="temperature">τ (PML 0.07).</param>
    /// <param name="distance">How embeddings are compared; <see cref="CosineSimilarity"/> when null.</param>
    /// <param name="reducer">Reduces the per-positive-pair values; <see cref="MeanReducer"/> when null.</param>
    /// <exception cref="ArgumentException">τ is not a finite positive number.</exception>
    public NTXentLoss(double temperature = 0.07, EmbeddingDistance? distance = null, LossReducer? reducer = null)
        : base(nameof(NTXentLoss), distance ?? new CosineSimilarity(), reducer ?? new MeanReducer())
    {
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentException($"The temperature must be a finite positive number; got {temperature}.", nameof(temperature));
        Temperature = temperature;
    }

    /// <summary>τ: smaller values sharpen the softmax over negatives.</summary>
    public double Temperature { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        PairTuples pairs = input.Pairs();
        if (pairs.PositiveCount == 0 || pairs.NegativeCount == 0) yield break;
        Tensor matrix = Distance.Pairwise(input.Embeddings, input.ReferenceEmbeddings);
        Tensor logits = (Distance.IsSimilarity ? matrix : -matrix) / Temperature;
        // One log-sum-exp per anchor row over its negatives (weighted by multiplicity), instead of PML's positives × negatives matrix.
        Tensor counts = PairLossMath.Counts(logits, pairs.NegativeAnchors, pairs.Negatives);
        Tensor negativeLogits = (logits + counts.clamp_min(1).log()).masked_fill(counts.eq(0), PairLossMath.Lowest(logits.dtype));
        Tensor negativePerAnchor = negativeLogits.logsumexp(1, keepdim: false).index_select(0, pairs.PositiveAnchors);
        Tensor positive = PairLossMath.Gather(logits, pairs.PositiveAnchors, pairs.Positives);
        Tensor values = stack([positive, negativePerAnchor]).logsumexp(0, keepdim: false) - positive;
        yield return new LossTerms(values, LossTermKind.PositivePair, pairs.PositiveAnchors);
    }
}
