using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Index tuples that a miner returns and a pair or triplet loss consumes (PML's <c>indices_tuple</c>). Anchor indices point
/// into the batch's embeddings; positive and negative indices point into the reference set (the batch itself, or a
/// cross-batch memory). All tensors are 1-D int64.
/// </summary>
public abstract record IndexTuples;

/// <summary>Positive pairs (a1[i], p[i]) and negative pairs (a2[j], n[j]), PML's 4-tuple.</summary>
/// <param name="PositiveAnchors">Anchor of each positive pair.</param>
/// <param name="Positives">Reference index of each positive.</param>
/// <param name="NegativeAnchors">Anchor of each negative pair.</param>
/// <param name="Negatives">Reference index of each negative.</param>
public sealed record PairTuples(Tensor PositiveAnchors, Tensor Positives, Tensor NegativeAnchors, Tensor Negatives) : IndexTuples
{
    /// <summary>Number of positive pairs.</summary>
    public long PositiveCount => Positives.shape[0];

    /// <summary>Number of negative pairs.</summary>
    public long NegativeCount => Negatives.shape[0];
}

/// <summary>Triplets (a[i], p[i], n[i]), PML's 3-tuple.</summary>
/// <param name="Anchors">Anchor of each triplet.</param>
/// <param name="Positives">Reference index of each positive.</param>
/// <param name="Negatives">Reference index of each negative.</param>
public sealed record TripletTuples(Tensor Anchors, Tensor Positives, Tensor Negatives) : IndexTuples
{
    /// <summary>Number of triplets.</summary>
    public long Count => Anchors.shape[0];
}
