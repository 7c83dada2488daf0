using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Quadruplet loss (Chen et al., "Beyond triplet loss: a deep quadruplet network for person re-identification", CVPR 2017)
/// with the paper's adaptive margin. For each triplet (a, p, n₁) (mined, or every triplet of the batch) and a distance d
/// (default squared Euclidean on normalised rows, the paper's g²):
/// <code>
/// L₁ = [d(a, p) − d(a, n₁) + α₁]₊
/// L₂ = [d(a, p) − d(n₁, n₂) + α₂]₊,  n₂ = argmin_{y(n₂) ∉ {y(a), y(n₁)}} d(n₁, n₂)
/// α_k = w_k · max(0, μ_neg − μ_pos)   (detached)
/// </code>
/// μ_pos and μ_neg are the means of d over every positive and every negative pair between the batch and the reference set;
/// w₁ = 1 and w₂ = ½ as in the paper (the second margin is the weaker push). n₂ ranges over the reference set and is the
/// hardest second negative of n₁ for the anchor's class, so the O(n⁴) quadruplets never materialise: one sort of the
/// reference × reference matrix finds, per n₁, its nearest element of another class and its nearest of a third class.
/// Triplets with no valid n₂ (fewer than three classes) contribute only L₁. With a similarity the inequalities flip
/// (hardest = most similar, μ_pos − μ_neg). L₁ and L₂ are <see cref="LossTermKind.Triplet"/> terms reduced separately
/// (<see cref="AvgNonZeroReducer"/> by default) and added. With <c>adaptiveMargin: false</c>, α_k = w_k.
/// </summary>
public sealed class QuadrupletLoss : MetricLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="firstMarginWeight">w₁: α₁'s weight (adaptive) or α₁ itself (fixed); 1 as in the paper.</param>
    /// <param name="secondMarginWeight">w₂: α₂'s weight or α₂ itself; 0.5 as in the paper.</param>
    /// <param name="adaptiveMargin">Scale the weights by the batch's μ_neg − μ_pos (the paper) or use them as fixed margins.</param>
    /// <param name="distance">How embeddings are compared; squared Euclidean on normalised rows when null.</param>
    /// <param name="reducer">Reduces each term; <see cref="AvgNonZeroReducer"/> when null.</param>
    /// <exception cref="ArgumentException">A weight is negative or not finite.</exception>
    public QuadrupletLoss(double firstMarginWeight = 1, double secondMarginWeight = 0.5, bool adaptiveMargin = true, EmbeddingDistance? distance = null, LossReducer? reducer = null)
        : base(nameof(QuadrupletLoss), distance ?? new LpDistance(normalizeEmbeddings: true, p: 2, power: 2), reducer ?? new AvgNonZeroReducer())
    {
        if (!(firstMarginWeight >= 0) || double.IsInfinity(firstMarginWeight)) throw new ArgumentException($"The first margin weight must be finite and non-negative; got {firstMarginWeight}.", nameof(firstMarginWeight));
        if (!(secondMarginWeight >= 0) || double.IsInfinity(secondMarginWeight)) throw new ArgumentException($"The second margin weight must be finite and non-negative; got {secondMarginWeight}.", nameof(secondMarginWeight));
        FirstMarginWeight = firstMarginWeight;
        SecondMarginWeight = secondMarginWeight;
        AdaptiveMargin = adaptiveMargin;
    }

    /// <summary>w₁: the weight of the triplet term's margin (or the margin itself when not adaptive).</summary>
    public double FirstMarginWeight { get; }

    /// <summary>w₂: the weight of the negative-pair term's margin (or the margin itself when not adaptive).</summary>
    public double SecondMarginWeight { get; }

    /// <summary>Whether margins scale with the batch's mean negative minus mean positive distance.</summary>
    public bool AdaptiveMargin { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        TripletTuples triplets = input.Triplets();
        if (triplets.Count == 0) yield break;
        Tensor matrix = Distance.Pairwise(input.Embeddings, input.ReferenceEmbeddings);
        Tensor reference = input.ReferenceIsBatch ? matrix : Distance.Pairwise(input.ReferenceEmbeddings);
        Tensor gap = AdaptiveMargin ? MeanGap(matrix, input) : ones([], dtype: matrix.dtype, device: matrix.device);

        Tensor anchorPositive = PairLossMath.Gather(matrix, triplets.Anchors, triplets.Positives);
        Tensor anchorNegative = PairLossMath.Gather(matrix, triplets.Anchors, triplets.Negatives);
        Tensor first = nn.functional.relu(Distance.Violation(anchorPositive, anchorNegative) + FirstMarginWeight * gap);
        yield return new LossTerms(first, LossTermKind.Triplet, triplets.Anchors);

        (Tensor secondNegatives, Tensor valid) = HardestSecondNegatives(reference, input.ReferenceLabels, triplets.Negatives, input.Labels.index_select(0, triplets.Anchors));
        Tensor kept = valid.nonzero().squeeze(1);
        Tensor negativeNegative = PairLossMath.Gather(reference, triplets.Negatives.index_select(0, kept), secondNegatives.index_select(0, kept));
        Tensor second = nn.functional.relu(Distance.Violation(anchorPositive.index_select(0, kept), negativeNegative) + SecondMarginWeight * gap);
        yield return new LossTerms(second, LossTermKind.Triplet, triplets.Anchors.index_select(0, kept));
    }

    // max(0, μ_neg − μ_pos) for a distance (μ_pos − μ_neg for a similarity), over all batch × reference pairs, detached.
    private Tensor MeanGap(Tensor matrix, LossInput input)
    {
        Tensor values = matrix.detach();
        Tensor same = input.Labels.unsqueeze(1).eq(input.ReferenceLabels.unsqueeze(0));
        Tensor different = same.logical_not();
        if (input.ReferenceIsBatch) same = same.logical_and(eye(matrix.shape[0], dtype: ScalarType.Bool, device: matrix.device).logical_not());
        Tensor meanPositive = values.masked_select(same).mean();
        Tensor meanNegative = values.masked_select(different).mean();
        return (Distance.IsSimilarity ? meanPositive - meanNegative : meanNegative - meanPositive).clamp_min(0);
    }

    // For each triplet, the reference element n₂ closest to n₁ whose class is neither n₁'s nor the anchor's. Sorting row n₁ by
    // closeness (other classes only), the first entry answers unless its class is the anchor's; then the first entry of a
    // third class does.
    private (Tensor SecondNegatives, Tensor Valid) HardestSecondNegatives(Tensor reference, Tensor referenceLabels, Tensor negatives, Tensor anchorLabels)
    {
        Tensor sameClass = referenceLabels.unsqueeze(1).eq(referenceLabels.unsqueeze(0));
        double worst = Distance.IsSimilarity ? PairLossMath.Lowest(reference.dtype) : -PairLossMath.Lowest(reference.dtype);
        Tensor order = reference.detach().masked_fill(sameClass, worst).argsort(1, descending: Distance.IsSimilarity);
        Tensor sortedLabels = referenceLabels.index_select(0, order.reshape(-1)).reshape(order.shape);
        Tensor otherClass = sameClass.gather(1, order).logical_not();
        Tensor firstLabel = sortedLabels[.., 0];
        Tensor firstValid = otherClass[.., 0];
        Tensor third = otherClass.logical_and(sortedLabels.ne(firstLabel.unsqueeze(1)));
        Tensor thirdPosition = third.to(ScalarType.Int32).argmax(1);
        Tensor hasThird = third.any(1);
        Tensor firstElement = order[.., 0];
        Tensor thirdElement = order.gather(1, thirdPosition.unsqueeze(1)).squeeze(1);

        Tensor useFirst = firstLabel.index_select(0, negatives).ne(anchorLabels);
        Tensor chosen = where(useFirst, firstElement.index_select(0, negatives), thirdElement.index_select(0, negatives));
        Tensor valid = firstValid.index_select(0, negatives).logical_and(useFirst.logical_or(hasThird.index_select(0, negatives)));
        return (chosen, valid);
    }
}
