using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Contrastive loss (Hadsell, Chopra and LeCun, "Dimensionality Reduction by Learning an Invariant Mapping", CVPR 2006), as
/// pytorch-metric-learning's <c>ContrastiveLoss</c>. With a distance d, positive pairs pay <c>[d − m_pos]₊</c> and negative
/// pairs pay <c>[m_neg − d]₊</c>; with a similarity s, <c>[m_pos − s]₊</c> and <c>[s − m_neg]₊</c>. The two parts are reduced
/// separately (<see cref="LossTermKind.PositivePair"/>, <see cref="LossTermKind.NegativePair"/>; default
/// <see cref="AvgNonZeroReducer"/>) and added. A batch without positive pairs still pays its negative part, as in PML.
/// </summary>
public sealed class ContrastiveLoss : MetricLoss
{
    /// <summary>Creates the loss with PML's defaults.</summary>
    /// <param name="positiveMargin">m_pos: positive pairs closer than this cost nothing (PML <c>pos_margin</c>, 0).</param>
    /// <param name="negativeMargin">m_neg: negative pairs farther than this cost nothing (PML <c>neg_margin</c>, 1).</param>
    /// <param name="distance">How embeddings are compared; <see cref="LpDistance"/> (normalised Euclidean) when null.</param>
    /// <param name="reducer">Reduces each part; <see cref="AvgNonZeroReducer"/> when null.</param>
    /// <exception cref="ArgumentException">A margin is NaN or infinite.</exception>
    public ContrastiveLoss(double positiveMargin = 0, double negativeMargin = 1, EmbeddingDistance? distance = null, LossReducer? reducer = null)
        : base(nameof(ContrastiveLoss), distance ?? new LpDistance(), reducer ?? new AvgNonZeroReducer())
    {
        if (!double.IsFinite(positiveMargin)) throw new ArgumentException($"The positive margin must be finite; got {positiveMargin}.", nameof(positiveMargin));
        if (!double.IsFinite(negativeMargin)) throw new ArgumentException($"The negative margin must be finite; got {negativeMargin}.", nameof(negativeMargin));
        PositiveMargin = positiveMargin;
        NegativeMargin = negativeMargin;
    }

    /// <summary>m_pos: the margin below which positive pairs cost nothing (in the distance's unit).</summary>
    public double PositiveMargin { get; }

    /// <summary>m_neg: the margin beyond which negative pairs cost nothing (in the distance's unit).</summary>
    public double NegativeMargin { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        PairTuples pairs = input.Pairs();
        Tensor matrix = Distance.Pairwise(input.Embeddings, input.ReferenceEmbeddings);
        Tensor positive = PairLossMath.Gather(matrix, pairs.PositiveAnchors, pairs.Positives);
        Tensor negative = PairLossMath.Gather(matrix, pairs.NegativeAnchors, pairs.Negatives);
        bool similarity = Distance.IsSimilarity;
        yield return new LossTerms(nn.functional.relu(PairLossMath.Above(similarity, positive, PositiveMargin)), LossTermKind.PositivePair, pairs.PositiveAnchors);
        yield return new LossTerms(nn.functional.relu(-PairLossMath.Above(similarity, negative, NegativeMargin)), LossTermKind.NegativePair, pairs.NegativeAnchors);
    }
}
