using DeepRetrieval.Torch.Miners;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Dense n × m 0/1 masks of which reference items a ranking loss treats as each anchor's positives and negatives: every pair
/// by default, or only the mined ones. Self pairs never appear when the reference set is the batch, because
/// <see cref="LossInput.Pairs"/> excludes them.
/// </summary>
internal static class RankingMasks
{
    /// <summary>The positive and negative masks, in the dtype and on the device of <paramref name="like"/> (n × m).</summary>
    public static (Tensor Positive, Tensor Negative) Create(LossInput input, Tensor like)
    {
        PairTuples pairs = input.Pairs();
        long n = like.shape[0], m = like.shape[1];
        return (Mask(pairs.PositiveAnchors, pairs.Positives, n, m, like), Mask(pairs.NegativeAnchors, pairs.Negatives, n, m, like));
    }

    private static Tensor Mask(Tensor anchors, Tensor references, long n, long m, Tensor like)
    {
        Tensor flat = zeros(n * m, dtype: like.dtype, device: like.device);
        if (anchors.shape[0] > 0) flat.index_fill_(0, anchors * m + references, 1);
        return flat.view(n, m);
    }
}
