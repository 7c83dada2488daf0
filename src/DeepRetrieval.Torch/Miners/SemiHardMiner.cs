using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Semi-hard negative mining as in FaceNet (Schroff, Kalenichenko and Philbin 2015): for every positive pair (a, p), the
/// hardest negative that is still farther than the positive but inside the margin, <c>d(a,p) &lt; d(a,n) &lt; d(a,p) + margin</c>
/// (for a similarity, <c>s(a,p) − margin &lt; s(a,n) &lt; s(a,p)</c>). Pairs without such a negative give no triplet, so the
/// result has at most one triplet per positive pair. Unlike <see cref="BatchAllMiner"/> with
/// <see cref="TripletMiningType.SemiHard"/>, which keeps every semi-hard triplet, this keeps only the closest semi-hard negative
/// (TensorFlow Addons' <c>triplet_semihard_loss</c> choice, without its fallback to the farthest negative). Ties go to the lowest index.
/// </summary>
public sealed class SemiHardMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="margin">The band's width, in the distance's unit (FaceNet's α; 0.2 as PML's triplet defaults).</param>
    /// <param name="distance">How embeddings are compared; null uses <see cref="LpDistance"/> on normalised rows.</param>
    /// <exception cref="ArgumentOutOfRangeException">The margin is not a finite positive number.</exception>
    public SemiHardMiner(double margin = 0.2, EmbeddingDistance? distance = null)
    {
        if (!(margin > 0) || double.IsInfinity(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be a finite positive number.");
        Margin = margin;
        Distance = distance ?? new LpDistance();
    }

    /// <summary>The band's width.</summary>
    public double Margin { get; }

    /// <summary>How embeddings are compared.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>Mines, for each positive pair, its closest semi-hard negative.</summary>
    /// <param name="embeddings">n × d batch embeddings.</param>
    /// <param name="labels">n int64 labels.</param>
    /// <param name="referenceEmbeddings">m × d reference embeddings; null uses the batch.</param>
    /// <param name="referenceLabels">m labels; required with <paramref name="referenceEmbeddings"/>.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, or the embeddings hold NaN or infinity.</exception>
    public TripletTuples Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings = null, Tensor? referenceLabels = null)
    {
        MinerBatch batch = MinerBatch.Create(embeddings, labels, referenceEmbeddings, referenceLabels);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor matrix = batch.Matrix(Distance);
        Tensor positivePairs = batch.SameLabel().nonzero();
        Tensor anchors = positivePairs[.., 0], positives = positivePairs[.., 1];
        Tensor anchorRows = matrix.index_select(0, anchors);
        Tensor anchorPositive = anchorRows.gather(1, positives.unsqueeze(1));
        // How much farther each candidate is than the positive (P × m); semi-hard means strictly inside (0, margin).
        Tensor tripletMargin = Distance.Violation(anchorPositive, anchorRows).neg();
        Tensor semiHard = batch.DifferentLabel().index_select(0, anchors)
            .logical_and(tripletMargin.gt(0))
            .logical_and(tripletMargin.lt(Margin));
        Tensor closest = tripletMargin.masked_fill(semiHard.logical_not(), double.PositiveInfinity).argmin(1);
        Tensor kept = semiHard.any(1).nonzero()[.., 0];
        return new TripletTuples(
            anchors.index_select(0, kept).MoveToOuterDisposeScope(),
            positives.index_select(0, kept).MoveToOuterDisposeScope(),
            closest.index_select(0, kept).MoveToOuterDisposeScope());
    }

    IndexTuples IMiner.Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels) =>
        Mine(embeddings, labels, referenceEmbeddings, referenceLabels);
}
