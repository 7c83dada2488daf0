using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// FastAP (Cakir, He, Xia, Kulis and Sclaroff 2019, "Deep Metric Learning to Rank"; PML <c>FastAPLoss</c>): average precision
/// made differentiable by binning each anchor's distances into a histogram with triangular kernels.
/// With bin centres <c>z_k = kΔ</c>, k = 0..L (<c>L = numBins</c>, <c>Δ = 2^power / L</c>, the largest distance between unit
/// vectors raised to the distance's power) and kernel <c>δ(d, z) = max(0, 1 − |d − z|/Δ)</c>, anchor q has positive and
/// negative histograms <c>h⁺_k = Σ_{p∈P(q)} δ(d_qp, z_k)</c>, <c>h⁻_k = Σ_{n∈N(q)} δ(d_qn, z_k)</c>, their running sums
/// <c>H⁺_k = Σ_{j≤k} h⁺_j</c>, <c>H_k = Σ_{j≤k} (h⁺_j + h⁻_j)</c>, and
/// <c>FastAP_q = (1/|P(q)|) Σ_k h⁺_k H⁺_k / H_k</c> (terms with <c>h⁺_k H⁺_k = 0</c> or <c>H_k = 0</c> count as 0).
/// The loss of anchor q is <c>1 − FastAP_q</c>, for every anchor with at least one positive; the default reducer averages them (PML's
/// <see cref="MeanReducer"/>). The distance must be <see cref="LpDistance"/> with p = 2 on normalised rows (as PML requires);
/// the default is its squared form (power 2), PML's default.
/// Differences from PML: PML ignores reference sets, and turns mined tuples into per-element weights; here a reference set
/// (such as <see cref="CrossBatchMemory"/>) supplies the retrieved items, and mined tuples choose which items count as each
/// anchor's positives and negatives. Without either, the value equals PML's.
/// </summary>
public sealed class FastAPLoss : MetricLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="numBins">Number of histogram bins L (PML default 10); there are L + 1 bin centres.</param>
    /// <param name="distance">An <see cref="LpDistance"/> with p = 2 on normalised rows; null uses the squared one (power 2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numBins"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The distance is not a normalised Euclidean distance.</exception>
    public FastAPLoss(int numBins = 10, LpDistance? distance = null)
        : base(nameof(FastAPLoss), distance ?? new LpDistance(power: 2), new MeanReducer())
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numBins, 1);
        LpDistance lp = (LpDistance)Distance;
        if (!lp.NormalizeEmbeddings || lp.P != 2)
            throw new ArgumentException("FastAP bins distances between unit vectors: the distance must be an LpDistance with p = 2 and normalised embeddings.", nameof(distance));
        NumBins = numBins;
    }

    /// <summary>Number of histogram bins L.</summary>
    public int NumBins { get; }

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        Tensor distances = Distance.Pairwise(input.Embeddings, input.ReferenceIsBatch ? null : input.ReferenceEmbeddings);
        (Tensor positive, Tensor negative) = RankingMasks.Create(input, distances);
        Tensor positiveCount = positive.sum(1);
        Tensor anchors = positiveCount.gt(0).nonzero()[.., 0];
        if (anchors.shape[0] == 0) yield break;

        double histogramMax = Math.Pow(2, ((LpDistance)Distance).Power);
        double delta = histogramMax / NumBins;
        Tensor centres = linspace(0, histogramMax, NumBins + 1, dtype: distances.dtype, device: distances.device);
        // n × m × (L + 1) kernel weights; each anchor's histogram is one batched product with its 0/1 mask.
        Tensor pulse = nn.functional.relu(1 - (distances.unsqueeze(2) - centres).abs() / delta);
        Tensor positiveHistogram = positive.unsqueeze(1).bmm(pulse).squeeze(1);
        Tensor negativeHistogram = negative.unsqueeze(1).bmm(pulse).squeeze(1);
        Tensor product = positiveHistogram * positiveHistogram.cumsum(1);
        Tensor total = (positiveHistogram + negativeHistogram).cumsum(1);
        Tensor skip = product.gt(0).logical_and(total.gt(0)).logical_not();
        // The safe denominator keeps 0/0 out of both the value and the gradient.
        Tensor precision = (product / total.masked_fill(skip, 1)).masked_fill(skip, 0);
        Tensor fastAp = precision.sum(1).index_select(0, anchors) / positiveCount.index_select(0, anchors);
        yield return new LossTerms(1 - fastAp, LossTermKind.Element, anchors);
    }
}
