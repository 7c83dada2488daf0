using DeepRetrieval.Torch.Distances;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// The pair mining of the multi-similarity loss (Wang et al. 2019, "Multi-Similarity Loss with General Pair Weighting for Deep
/// Metric Learning"; PML <c>MultiSimilarityMiner</c>). With a similarity s, a positive pair is kept when
/// <c>s(a,p) − ε &lt; max_n s(a,n)</c> and a negative pair when <c>s(a,n) + ε &gt; min_p s(a,p)</c>; with a distance the
/// inequalities mirror (<c>d(a,p) + ε &gt; min_n d(a,n)</c>, <c>d(a,n) − ε &lt; max_p d(a,p)</c>). Pairs come in (anchor,
/// reference) order, where PML orders them by value within each anchor; the sets are the same.
/// </summary>
public sealed class MultiSimilarityMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="epsilon">The slack ε (PML default 0.1), in the distance's unit.</param>
    /// <param name="distance">How embeddings are compared; null uses PML's default, <see cref="CosineSimilarity"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">ε is NaN or infinite.</exception>
    public MultiSimilarityMiner(double epsilon = 0.1, EmbeddingDistance? distance = null)
    {
        if (!double.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be a finite number.");
        Epsilon = epsilon;
        Distance = distance ?? new CosineSimilarity();
    }

    /// <summary>The slack ε.</summary>
    public double Epsilon { get; }

    /// <summary>How embeddings are compared.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>Mines the informative positive and negative pairs.</summary>
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
        Tensor same = batch.SameLabel();
        Tensor different = batch.DifferentLabel();
        Tensor positiveKeep, negativeKeep;
        // Anchors without negatives (or positives) get an infinite bound that no pair can pass.
        if (Distance.IsSimilarity)
        {
            Tensor hardestNegative = matrix.masked_fill(different.logical_not(), double.NegativeInfinity).amax([1L], keepdim: true);
            Tensor hardestPositive = matrix.masked_fill(same.logical_not(), double.PositiveInfinity).amin([1L], keepdim: true);
            positiveKeep = same.logical_and((matrix - Epsilon).lt(hardestNegative));
            negativeKeep = different.logical_and((matrix + Epsilon).gt(hardestPositive));
        }
        else
        {
            Tensor hardestNegative = matrix.masked_fill(different.logical_not(), double.PositiveInfinity).amin([1L], keepdim: true);
            Tensor hardestPositive = matrix.masked_fill(same.logical_not(), double.NegativeInfinity).amax([1L], keepdim: true);
            positiveKeep = same.logical_and((matrix + Epsilon).gt(hardestNegative));
            negativeKeep = different.logical_and((matrix - Epsilon).lt(hardestPositive));
        }
        Tensor positives = positiveKeep.nonzero();
        Tensor negatives = negativeKeep.nonzero();
        return new PairTuples(
            positives[.., 0].MoveToOuterDisposeScope(), positives[.., 1].MoveToOuterDisposeScope(),
            negatives[.., 0].MoveToOuterDisposeScope(), negatives[.., 1].MoveToOuterDisposeScope());
    }

    IndexTuples IMiner.Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings, Tensor? referenceLabels) =>
        Mine(embeddings, labels, referenceEmbeddings, referenceLabels);
}
