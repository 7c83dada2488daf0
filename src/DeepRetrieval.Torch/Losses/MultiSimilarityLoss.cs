using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Multi-similarity loss (Wang et al., "Multi-Similarity Loss with General Pair Weighting for Deep Metric Learning", CVPR 2019),
/// as pytorch-metric-learning's <c>MultiSimilarityLoss</c>. For anchor i with positives P_i and negatives N_i under a
/// similarity S (default cosine):
/// <c>L_i = (1/α) log(1 + Σ_{p∈P_i} exp(−α (S_ip − λ))) + (1/β) log(1 + Σ_{n∈N_i} exp(β (S_in − λ)))</c>,
/// computed with a masked log-sum-exp; an empty set contributes 0. With a distance the signs of (S − λ) flip.
/// One value per batch element, reduced by <see cref="MeanReducer"/> by default. The paper's pair mining is a separate miner.
/// </summary>
public sealed class MultiSimilarityLoss : MetricLoss
{
    /// <summary>Creates the loss with PML's defaults.</summary>
    /// <param name="alpha">α, the positive scale (PML 2).</param>
    /// <param name="beta">β, the negative scale (PML 50).</param>
    /// <param name="base">λ, the similarity offset (PML 0.5).</param>
    /// <param name="distance">How embeddings are compared; <see cref="CosineSimilarity"/> when null.</param>
    /// <param name="reducer">Reduces the per-element values; <see cref="MeanReducer"/> when null.</param>
    /// <exception cref="ArgumentException">α or β is not a finite positive number, or λ is not finite.</exception>
    public MultiSimilarityLoss(double alpha = 2, double beta = 50, double @base = 0.5, EmbeddingDistance? distance = null, LossReducer? reducer = null)
        : base(nameof(MultiSimilarityLoss), distance ?? new CosineSimilarity(), reducer ?? new MeanReducer())
    {
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentException($"Alpha must be a finite positive number; got {alpha}.", nameof(alpha));
        if (!(beta > 0) || double.IsInfinity(beta)) throw new ArgumentException($"Beta must be a finite positive number; got {beta}.", nameof(beta));
        if (!double.IsFinite(@base)) throw new ArgumentException($"The base must be finite; got {@base}.", nameof(@base));
        Alpha = alpha;
        Beta = beta;
        Base = @base;
    }

    /// <summary>α, the scale of the positive term.</summary>
    public double Alpha { get; }

    /// <summary>β, the scale of the negative term.</summary>
    public double Beta { get; }

    /// <summary>λ, the offset that similarities are measured from.</summary>
    public double Base { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        PairTuples pairs = input.Pairs();
        Tensor matrix = Distance.Pairwise(input.Embeddings, input.ReferenceEmbeddings);
        Tensor positiveMask = PairLossMath.Mask(matrix, pairs.PositiveAnchors, pairs.Positives);
        Tensor negativeMask = PairLossMath.Mask(matrix, pairs.NegativeAnchors, pairs.Negatives);
        // PML's margin(mat, base) and margin(base, mat): the positive exponent grows as a positive pair gets worse.
        Tensor positiveExponent = PairLossMath.Above(Distance.IsSimilarity, matrix, Base);
        Tensor negativeExponent = -positiveExponent;
        Tensor positive = PairLossMath.MaskedLogSumExp(positiveExponent * Alpha, positiveMask, addOne: true, dimension: 1) / Alpha;
        Tensor negative = PairLossMath.MaskedLogSumExp(negativeExponent * Beta, negativeMask, addOne: true, dimension: 1) / Beta;
        yield return new LossTerms(positive + negative, LossTermKind.Element);
    }
}
