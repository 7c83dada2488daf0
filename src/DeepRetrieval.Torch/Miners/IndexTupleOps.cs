using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Builds and converts index tuples, vectorised (PML's <c>loss_and_miner_utils</c>): every positive and negative pair of a
/// batch, every triplet, and conversions between pairs and triplets so any loss accepts any miner's output.
/// </summary>
public static class IndexTupleOps
{
    /// <summary>Every positive pair (same label) and negative pair (different label) between the batch and the reference set.</summary>
    /// <param name="labels">n int64 labels of the anchors.</param>
    /// <param name="referenceLabels">m labels of the reference set; null pairs the batch with itself, excluding (i, i).</param>
    public static PairTuples AllPairs(Tensor labels, Tensor? referenceLabels = null)
    {
        CheckLabels(labels, nameof(labels));
        Tensor reference = referenceLabels ?? labels;
        if (referenceLabels is not null) CheckLabels(referenceLabels, nameof(referenceLabels));
        Tensor same = labels.unsqueeze(1).eq(reference.unsqueeze(0));
        Tensor different = same.logical_not();
        if (referenceLabels is null) same = same.logical_and(eye(labels.shape[0], dtype: ScalarType.Bool, device: labels.device).logical_not());
        Tensor positive = same.nonzero();
        Tensor negative = different.nonzero();
        return new PairTuples(positive[.., 0], positive[.., 1], negative[.., 0], negative[.., 1]);
    }

    /// <summary>Every triplet (a, p, n) with label(a) = label(p) ≠ label(n), p ≠ a when the reference set is the batch.</summary>
    /// <param name="labels">n int64 labels.</param>
    /// <param name="referenceLabels">m labels of the reference set; null uses the batch.</param>
    public static TripletTuples AllTriplets(Tensor labels, Tensor? referenceLabels = null)
    {
        CheckLabels(labels, nameof(labels));
        Tensor reference = referenceLabels ?? labels;
        if (referenceLabels is not null) CheckLabels(referenceLabels, nameof(referenceLabels));
        Tensor same = labels.unsqueeze(1).eq(reference.unsqueeze(0));
        Tensor different = same.logical_not();
        if (referenceLabels is null) same = same.logical_and(eye(labels.shape[0], dtype: ScalarType.Bool, device: labels.device).logical_not());
        Tensor valid = same.unsqueeze(2).logical_and(different.unsqueeze(1));
        Tensor apn = valid.nonzero();
        return new TripletTuples(apn[.., 0], apn[.., 1], apn[.., 2]);
    }

    /// <summary>Pairs for a pair loss: the tuples themselves, the pairs inside triplets, or all pairs when <paramref name="tuples"/> is null.</summary>
    /// <param name="tuples">A miner's output or null.</param>
    /// <param name="labels">Batch labels (used when <paramref name="tuples"/> is null).</param>
    /// <param name="referenceLabels">Reference labels, or null for the batch itself.</param>
    public static PairTuples ToPairs(IndexTuples? tuples, Tensor labels, Tensor? referenceLabels = null) => tuples switch
    {
        null => AllPairs(labels, referenceLabels),
        PairTuples pairs => pairs,
        TripletTuples t => new PairTuples(t.Anchors, t.Positives, t.Anchors, t.Negatives),
        _ => throw new ArgumentException($"Unknown tuple type {tuples.GetType().Name}.", nameof(tuples)),
    };

    /// <summary>
    /// Triplets for a triplet loss: the tuples themselves, every (a, p, n) formed from positive and negative pairs that share
    /// an anchor, or all triplets when <paramref name="tuples"/> is null.
    /// </summary>
    /// <param name="tuples">A miner's output or null.</param>
    /// <param name="labels">Batch labels (used when <paramref name="tuples"/> is null).</param>
    /// <param name="referenceLabels">Reference labels, or null for the batch itself.</param>
    public static TripletTuples ToTriplets(IndexTuples? tuples, Tensor labels, Tensor? referenceLabels = null)
    {
        switch (tuples)
        {
            case null: return AllTriplets(labels, referenceLabels);
            case TripletTuples triplets: return triplets;
            case PairTuples pairs:
                Tensor shared = pairs.PositiveAnchors.unsqueeze(1).eq(pairs.NegativeAnchors.unsqueeze(0));
                Tensor pn = shared.nonzero();
                Tensor p = pn[.., 0], n = pn[.., 1];
                return new TripletTuples(pairs.PositiveAnchors.index_select(0, p), pairs.Positives.index_select(0, p), pairs.Negatives.index_select(0, n));
            default: throw new ArgumentException($"Unknown tuple type {tuples.GetType().Name}.", nameof(tuples));
        }
    }

    internal static void CheckLabels(Tensor labels, string name)
    {
        ArgumentNullException.ThrowIfNull(labels, name);
        if (labels.dim() != 1) throw new ArgumentException($"Labels must be a 1-D tensor; got shape [{string.Join(", ", labels.shape)}].", name);
        if (labels.dtype != ScalarType.Int64 && labels.dtype != ScalarType.Int32)
            throw new ArgumentException($"Labels must be integers (int64); got {labels.dtype}.", name);
    }
}
