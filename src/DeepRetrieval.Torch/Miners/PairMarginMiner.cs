using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Pairs that break a contrastive margin (PML <c>PairMarginMiner</c>): positive pairs farther apart than
/// <see cref="PositiveMargin"/> and negative pairs closer than <see cref="NegativeMargin"/> (for a similarity: positives
/// with <c>s &lt; PositiveMargin</c> and negatives with <c>s &gt; NegativeMargin</c>). Pairs come in (anchor, reference) order.
/// </summary>
public sealed class PairMarginMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="positiveMargin">Positives beyond it are kept (PML default 0.2).</param>
    /// <param name="negativeMargin">Negatives within it are kept (PML default 0.8).</param>
    /// <param name="distance">How embeddings are compared; null uses PML's default, <see cref="LpDistance"/> on normalised rows.</param>
    /// <exception cref="ArgumentOutOfRangeException">A margin is NaN or infinite.</exception>
    public PairMarginMiner(double positiveMargin = 0.2, double negativeMargin = 0.8, EmbeddingDistance? distance = null)
    {
        if (!double.IsFinite(positiveMargin)) throw new ArgumentOutOfRangeException(nameof(positiveMargin), positiveMargin, "The positive margin must be a finite number.");
        if (!double.IsFinite(negativeMargin)) throw new ArgumentOutOfRangeException(nameof(negativeMargin), negativeMargin, "The negative margin must be a finite number.");
        PositiveMargin = positiveMargin;
        NegativeMargin = negativeMargin;
        Distance = distance ?? new LpDistance();
    }

    /// <summary>Positive pairs beyond this distance (below this similarity) are kept.</summary>
    public double PositiveMargin { get; }

    /// <summary>Negative pairs within this distance (above this similarity) are kept.</summary>
    public double NegativeMargin { get; }

    /// <summary>How embeddings are compared.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>Mines the pairs that violate their margin.</summary>
    /// <param name="embeddings">n × d batch embeddings.</param>
    /// <param name="labels">n int64 labels.</param>
    /// <param name="referenceEmbeddings">m × d reference embeddings; null uses the batch.</param>
    /// <param name="referenceLabels">m labels; required with <paramref name="referenceEmbeddings"/>.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, or the embeddings hold NaN or infinity.</exception>
    public PairTuples Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings = null, Tensor? referenceLabels = null)
    {
        MinerBatch batch = MinerBatch.Create(embeddings, labels, referenceEmbeddings, referenceLabels);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor matrix = batch.Matrix(Distance);
        Tensor positiveViolates = Distance.IsSimilarity ? matrix.lt(PositiveMargin) : matrix.gt(PositiveMargin);
        Tensor negativeViolates = Distance.IsSimilarity ? matrix.gt(NegativeMargin) : matrix.lt(NegativeMargin);
        Tensor positives = batch.SameLabel().logical_and(positiveViolates).nonzero();
        Tensor negatives = batch.DifferentLabel().logical_and(negativeViolates).nonzero();
        return new PairTuples(
            positives[.., 0].MoveToOuterDisposeScope(), positives[.., 1].MoveToOuterDisposeScope(),
            negatives[.., 0].MoveToOuterDisposeScope(), negatives[.., 1].MoveToOuterDisposeScope());
    }

    IndexTuples IMiner.Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels) =>
        Mine(embeddings, labels, referenceEmbeddings, referenceLabels);
}
