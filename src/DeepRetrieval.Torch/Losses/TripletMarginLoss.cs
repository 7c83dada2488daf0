using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Triplet margin loss (Schroff, Kalenichenko and Philbin, "FaceNet: A Unified Embedding for Face Recognition and Clustering",
/// CVPR 2015), as pytorch-metric-learning's <c>TripletMarginLoss</c>. For a triplet (a, p, n) with distance d,
/// <c>L = [d(a, p) − d(a, n) + m]₊</c> (for a similarity s: <c>[s(a, n) − s(a, p) + m]₊</c>). With <see cref="Swap"/>
/// (Balntas et al. 2016) d(a, n) is replaced by min(d(a, n), d(p, n)); with <see cref="SmoothLoss"/> the hinge becomes the
/// soft margin <c>log(1 + exp(·))</c>. Triplets are the mined ones or every valid triplet of the batch (PML's
/// <c>triplets_per_anchor="all"</c>); the default reducer is <see cref="AvgNonZeroReducer"/>.
/// </summary>
public sealed class TripletMarginLoss : MetricLoss
{
    /// <summary>Creates the loss with PML's defaults.</summary>
    /// <param name="margin">m, in the distance's unit (PML 0.05).</param>
    /// <param name="swap">Use the positive–negative distance when it violates the margin more.</param>
    /// <param name="smoothLoss">Use softplus instead of the hinge.</param>
    /// <param name="distance">How embeddings are compared; <see cref="LpDistance"/> (normalised Euclidean) when null.</param>
    /// <param name="reducer">Reduces the per-triplet values; <see cref="AvgNonZeroReducer"/> when null.</param>
    /// <exception cref="ArgumentException">The margin is NaN or infinite.</exception>
    public TripletMarginLoss(double margin = 0.05, bool swap = false, bool smoothLoss = false, EmbeddingDistance? distance = null, LossReducer? reducer = null)
        : base(nameof(TripletMarginLoss), distance ?? new LpDistance(), reducer ?? new AvgNonZeroReducer())
    {
        if (!double.IsFinite(margin)) throw new ArgumentException($"The margin must be finite; got {margin}.", nameof(margin));
        Margin = margin;
        Swap = swap;
        SmoothLoss = smoothLoss;
    }

    /// <summary>m: how much closer the positive must be than the negative.</summary>
    public double Margin { get; }

    /// <summary>Whether the positive–negative distance replaces the anchor–negative one when it is worse.</summary>
    public bool Swap { get; }

    /// <summary>Whether the hinge is replaced by softplus.</summary>
    public bool SmoothLoss { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        TripletTuples triplets = input.Triplets();
        Tensor matrix = Distance.Pairwise(input.Embeddings, input.ReferenceEmbeddings);
        Tensor anchorPositive = PairLossMath.Gather(matrix, triplets.Anchors, triplets.Positives);
        Tensor anchorNegative = PairLossMath.Gather(matrix, triplets.Anchors, triplets.Negatives);
        if (Swap)
        {
            // Positives and negatives index the reference set, so their values come from reference rows, not batch rows.
            Tensor positiveNegative = input.ReferenceIsBatch
                ? PairLossMath.Gather(matrix, triplets.Positives, triplets.Negatives)
                : Distance.Paired(input.ReferenceEmbeddings.index_select(0, triplets.Positives), input.ReferenceEmbeddings.index_select(0, triplets.Negatives));
            anchorNegative = Distance.IsSimilarity ? maximum(anchorNegative, positiveNegative) : minimum(anchorNegative, positiveNegative);
        }
        Tensor violation = Distance.Violation(anchorPositive, anchorNegative) + Margin;
        Tensor values = SmoothLoss ? nn.functional.softplus(violation) : nn.functional.relu(violation);
        yield return new LossTerms(values, LossTermKind.Triplet, triplets.Anchors);
    }
}
