using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Batch-all mining (Hermans et al. 2017; PML <c>TripletMarginMiner</c>): every valid triplet (a, p, n) of the batch whose
/// triplet margin <c>m = d(a,n) − d(a,p)</c> (for a similarity <c>s(a,p) − s(a,n)</c>) falls in the band chosen by
/// <see cref="Type"/>; by default all triplets with <c>m ≤ margin</c>, the ones a triplet loss with that margin learns from.
/// Triplets come in (anchor, positive, negative) lexicographic order. Work and memory are one row of m per positive pair.
/// </summary>
public sealed class BatchAllMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="margin">The triplet margin, in the distance's unit (PML default 0.2).</param>
    /// <param name="type">Which band of triplets to keep.</param>
    /// <param name="distance">How embeddings are compared; null uses PML's default, <see cref="LpDistance"/> on normalised rows.</param>
    /// <exception cref="ArgumentOutOfRangeException">The margin is NaN or infinite, or the type is unknown.</exception>
    public BatchAllMiner(double margin = 0.2, TripletMiningType type = TripletMiningType.All, EmbeddingDistance? distance = null)
    {
        if (!double.IsFinite(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be a finite number.");
        if (!Enum.IsDefined(type)) throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown triplet mining type.");
        Margin = margin;
        Type = type;
        Distance = distance ?? new LpDistance();
    }

    /// <summary>The triplet margin.</summary>
    public double Margin { get; }

    /// <summary>Which band of triplets is kept.</summary>
    public TripletMiningType Type { get; }

    /// <summary>How embeddings are compared.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>Mines every triplet whose margin lies in the chosen band.</summary>
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
        // One row per positive pair rather than an n × m × m cube: (a, p) pairs come in lexicographic order and each row's
        // negatives in index order, so the triplets come out in (a, p, n) order.
        Tensor positivePairs = batch.SameLabel().nonzero();
        Tensor anchors = positivePairs[.., 0], positives = positivePairs[.., 1];
        Tensor anchorRows = matrix.index_select(0, anchors);
        // margin[(a, p), n] = how much farther n is than p: positive means the triplet is already ordered.
        Tensor tripletMargin = Distance.Violation(anchorRows.gather(1, positives.unsqueeze(1)), anchorRows).neg();
        Tensor band = Type switch
        {
            TripletMiningType.All => tripletMargin.le(Margin),
            TripletMiningType.Hard => tripletMargin.le(Math.Min(Margin, 0)),
            TripletMiningType.SemiHard => tripletMargin.gt(0).logical_and(tripletMargin.le(Margin)),
            _ => tripletMargin.gt(Margin),
        };
        Tensor pn = batch.DifferentLabel().index_select(0, anchors).logical_and(band).nonzero();
        Tensor pair = pn[.., 0];
        return new TripletTuples(
            anchors.index_select(0, pair).MoveToOuterDisposeScope(),
            positives.index_select(0, pair).MoveToOuterDisposeScope(),
            pn[.., 1].MoveToOuterDisposeScope());
    }

    IndexTuples IMiner.Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels) =>
        Mine(embeddings, labels, referenceEmbeddings, referenceLabels);
}
