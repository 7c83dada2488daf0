using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Batch-all mining (Hermans et al. 2017; PML <c>TripletMarginMiner</c>): every valid triplet (a, p, n) of the batch whose
/// triplet margin <c>m = d(a,n) − d(a,p)</c> (for a similarity <c>s(a,p) − s(a,n)</c>) falls in the band chosen by
/// <see cref="Type"/>; by default all triplets with <c>m ≤ margin</c>, the ones a triplet loss with that margin learns from.
/// Triplets come in (anchor, positive, negative) lexicographic order. Memory is n·m² booleans.
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
        // margin[a, p, n] = how much closer n is than p, in "better" units: positive means the triplet is already ordered.
        Tensor tripletMargin = Distance.Violation(matrix.unsqueeze(2), matrix.unsqueeze(1)).neg();
        Tensor band = Type switch
        {
            TripletMiningType.All => tripletMargin.le(Margin),
            TripletMiningType.Hard => tripletMargin.le(Math.Min(Margin, 0)),
            TripletMiningType.SemiHard => tripletMargin.gt(0).logical_and(tripletMargin.le(Margin)),
            _ => tripletMargin.gt(Margin),
        };
        Tensor valid = batch.SameLabel().unsqueeze(2).logical_and(batch.DifferentLabel().unsqueeze(1)).logical_and(band);
        Tensor apn = valid.nonzero();
        return new TripletTuples(apn[.., 0].MoveToOuterDisposeScope(), apn[.., 1].MoveToOuterDisposeScope(), apn[.., 2].MoveToOuterDisposeScope());
    }

    IndexTuples IMiner.Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels) =>
        Mine(embeddings, labels, referenceEmbeddings, referenceLabels);
}
