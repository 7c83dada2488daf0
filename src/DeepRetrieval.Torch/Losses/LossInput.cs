using DeepRetrieval.Torch.Miners;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>What a loss sees in one call, validated by <see cref="MetricLoss"/>.</summary>
/// <param name="Embeddings">n × d batch embeddings.</param>
/// <param name="Labels">n int64 labels.</param>
/// <param name="Tuples">A miner's tuples, or null for all pairs or triplets.</param>
/// <param name="ReferenceEmbeddings">m × d reference embeddings: the batch itself unless a memory (XBM) supplies others.</param>
/// <param name="ReferenceLabels">m reference labels.</param>
/// <param name="ReferenceIsBatch">True when the reference set is the batch itself (so an element must not pair with itself).</param>
public sealed record LossInput(Tensor Embeddings, Tensor Labels, IndexTuples? Tuples, Tensor ReferenceEmbeddings, Tensor ReferenceLabels, bool ReferenceIsBatch)
{
    /// <summary>Reference labels for tuple builders: null when the reference set is the batch (self pairs excluded).</summary>
    public Tensor? ExternalReferenceLabels => ReferenceIsBatch ? null : ReferenceLabels;

    /// <summary>The pairs to use: the mined ones (triplets split into pairs) or all pairs.</summary>
    public PairTuples Pairs() => IndexTupleOps.ToPairs(Tuples, Labels, ExternalReferenceLabels);

    /// <summary>The triplets to use: the mined ones (pairs combined per anchor) or all triplets.</summary>
    public TripletTuples Triplets() => IndexTupleOps.ToTriplets(Tuples, Labels, ExternalReferenceLabels);
}
