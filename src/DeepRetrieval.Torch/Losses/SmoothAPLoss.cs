using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Smooth-AP (Brown, Xie, Kalogeiton and Zisserman 2020, "Smooth-AP: Smoothing the Path Towards Large-Scale Image Retrieval"):
/// average precision with the rank's indicator replaced by a sigmoid of temperature τ. For anchor q with positives P and
/// retrieval set Ω = P ∪ N (every other item), <c>G(x) = σ(x / τ)</c> and <c>D_ij = s_qj − s_qi</c> (for a distance,
/// <c>d_qi − d_qj</c>: how far j is ahead of i),
/// <c>AP_q = (1/|P|) Σ_{i∈P} (1 + Σ_{j∈P, j≠i} G(D_ij)) / (1 + Σ_{j∈Ω, j≠i} G(D_ij))</c>,
/// and the loss of anchor q is <c>1 − AP_q</c> for every anchor with at least one positive, averaged by the default
/// <see cref="MeanReducer"/>. Time and memory are O(P·m) for P positive pairs and m retrieved items (one row per positive pair, not the n·m² cube).
/// Differences from the authors' code and PML's <c>SmoothAPLoss</c> (which PML 2.8.1 does not ship): those reshape the batch
/// into equal-sized class blocks, so they need every class to have the same count in contiguous order, and they count the
/// query as its own first-ranked positive; here any batch works, the query is never retrieved for itself (the paper's
/// definition), a reference set (such as <see cref="CrossBatchMemory"/>) may supply the retrieved items, and mined tuples
/// choose which items count as each anchor's positives and negatives.
/// </summary>
public sealed class SmoothAPLoss : MetricLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="temperature">The sigmoid's temperature τ (the paper's and PML's default 0.01, for cosine similarities); smaller is closer to the true rank.</param>
    /// <param name="distance">How embeddings are compared; null uses <see cref="CosineSimilarity"/> as the paper.</param>
    /// <exception cref="ArgumentOutOfRangeException">τ is not a finite positive number.</exception>
    public SmoothAPLoss(double temperature = 0.01, EmbeddingDistance? distance = null)
        : base(nameof(SmoothAPLoss), distance ?? new CosineSimilarity(), new MeanReducer())
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite positive number.");
        Temperature = temperature;
    }

    /// <summary>The sigmoid's temperature τ.</summary>
    public double Temperature { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        Tensor scores = Distance.Pairwise(input.Embeddings, input.ReferenceIsBatch ? null : input.ReferenceEmbeddings);
        (Tensor positive, Tensor negative) = RankingMasks.Create(input, scores);
        Tensor positiveCount = positive.sum(1);
        Tensor anchors = positiveCount.gt(0).nonzero()[.., 0];
        if (anchors.shape[0] == 0) yield break;

        // Only a positive i's rank matters, so work on one row per positive pair (q, i): O(pairs · m), not O(n · m²).
        Tensor pairs = positive.nonzero();
        Tensor queries = pairs[.., 0], items = pairs[.., 1];
        Tensor rows = scores.index_select(0, queries);
        // ahead[(q, i), j] = G(D_ij): how surely j ranks before i for anchor q.
        Tensor ahead = sigmoid(Distance.Violation(rows.gather(1, items.unsqueeze(1)), rows) / Temperature);
        // The j = i term is always σ(0) = ½ with zero gradient (i is in both sets), so the sums over all j subtract it.
        Tensor rankAmongPositives = 1 + (ahead * positive.index_select(0, queries)).sum(1) - 0.5;
        Tensor rankAmongAll = 1 + (ahead * (positive + negative).index_select(0, queries)).sum(1) - 0.5;
        Tensor precision = zeros_like(positiveCount).index_add(0, queries, rankAmongPositives / rankAmongAll, 1);
        Tensor averagePrecision = precision.index_select(0, anchors) / positiveCount.index_select(0, anchors);
        yield return new LossTerms(1 - averagePrecision, LossTermKind.Element, anchors);
    }
}
