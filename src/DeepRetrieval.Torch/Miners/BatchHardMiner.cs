using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Batch-hard mining (Hermans, Beyer and Leibe 2017, "In Defense of the Triplet Loss for Person Re-Identification"; PML
/// <c>BatchHardMiner</c>): one triplet per anchor, made of its hardest positive (farthest, or least similar) and its hardest
/// negative (closest, or most similar). Anchors without a positive or without a negative give no triplet.
/// Ties go to the lowest reference index.
/// </summary>
public sealed class BatchHardMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="distance">How embeddings are compared; null uses PML's default, <see cref="LpDistance"/> on normalised rows.</param>
    public BatchHardMiner(EmbeddingDistance? distance = null) => Distance = distance ?? new LpDistance();

    /// <summary>How embeddings are compared.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>Mines one (anchor, hardest positive, hardest negative) triplet per anchor that has both.</summary>
    /// <param name="embeddings">n × d batch embeddings.</param>
    /// <param name="labels">n int64 labels.</param>
    /// <param name="referenceEmbeddings">m × d reference embeddings; null uses the batch (an element is never its own positive).</param>
    /// <param name="referenceLabels">m labels; required with <paramref name="referenceEmbeddings"/>.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, or the embeddings hold NaN or infinity.</exception>
    public TripletTuples Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings = null, Tensor? referenceLabels = null)
    {
        MinerBatch batch = MinerBatch.Create(embeddings, labels, referenceEmbeddings, referenceLabels);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor matrix = batch.Matrix(Distance);
        Tensor same = batch.SameLabel();
        Tensor different = batch.DifferentLabel();
        bool similarity = Distance.IsSimilarity;
        // Pairs that do not qualify are pushed to the value that can never be the hardest.
        Tensor positiveScores = matrix.masked_fill(same.logical_not(), similarity ? double.PositiveInfinity : double.NegativeInfinity);
        Tensor negativeScores = matrix.masked_fill(different.logical_not(), similarity ? double.NegativeInfinity : double.PositiveInfinity);
        Tensor hardestPositive = similarity ? positiveScores.argmin(1) : positiveScores.argmax(1);
        Tensor hardestNegative = similarity ? negativeScores.argmax(1) : negativeScores.argmin(1);
        Tensor anchors = same.any(1).logical_and(different.any(1)).nonzero()[.., 0];
        return new TripletTuples(
            anchors.MoveToOuterDisposeScope(),
            hardestPositive.index_select(0, anchors).MoveToOuterDisposeScope(),
            hardestNegative.index_select(0, anchors).MoveToOuterDisposeScope());
    }

    IndexTuples IMiner.Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels) =>
        Mine(embeddings, labels, referenceEmbeddings, referenceLabels);
}
