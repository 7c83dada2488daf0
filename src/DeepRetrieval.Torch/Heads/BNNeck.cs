using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// The BNNeck of Luo et al., "Bag of tricks and a strong baseline for deep person re-identification" (CVPRW 2019): a
/// <c>BatchNorm1d</c> whose shift (bias) is frozen at zero (<c>requires_grad = false</c>) between the pooled feature and the
/// classifier. Train with both features from <see cref="ForwardBoth"/>: the feature BEFORE batch norm feeds the pair/triplet
/// (metric) loss, the feature AFTER batch norm feeds the classification (ID / softmax-family) loss; at inference use the
/// feature after batch norm (what <see cref="forward"/> returns), compared with cosine similarity. The batch norm is named
/// <c>bottleneck</c> as in the authors' code, so state-dict keys are <c>bottleneck.weight</c>, <c>bottleneck.bias</c>,
/// <c>bottleneck.running_mean</c>, <c>bottleneck.running_var</c>, <c>bottleneck.num_batches_tracked</c>.
/// In training mode batch norm needs more than one row per batch.
/// </summary>
public sealed class BNNeck : nn.Module<Tensor, Tensor>, INeckHead
{
    private readonly BatchNorm1d bottleneck;

    /// <summary>Creates the neck with weight 1 and bias 0 (the authors' initialisation), the bias frozen.</summary>
    /// <param name="features">Feature width.</param>
    /// <exception cref="ArgumentOutOfRangeException">features is not positive.</exception>
    public BNNeck(int features) : base(nameof(BNNeck))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        Features = features;
        bottleneck = nn.BatchNorm1d(features);
        bottleneck.bias!.requires_grad = false;
        RegisterComponents();
    }

    /// <summary>Feature width.</summary>
    public int Features { get; }

    /// <summary>The inner batch norm.</summary>
    public BatchNorm1d BatchNorm => bottleneck;

    /// <summary>The feature after batch norm: the input of the ID loss in training and the retrieval feature at inference.</summary>
    /// <param name="features">N × D floating-point features.</param>
    /// <exception cref="ArgumentException">The input is not 2-D floating point with D columns.</exception>
    public override Tensor forward(Tensor features)
    {
        HeadInput.Check(features, nameof(features), Features);
        return bottleneck.forward(features);
    }

    /// <summary>Both features: <c>BeforeBatchNorm</c> for the metric (triplet/pair) loss, <c>AfterBatchNorm</c> for the ID loss.</summary>
    /// <param name="features">N × D floating-point features.</param>
    /// <exception cref="ArgumentException">The input is not 2-D floating point with D columns.</exception>
    public (Tensor BeforeBatchNorm, Tensor AfterBatchNorm) ForwardBoth(Tensor features) => (features, forward(features));
}
