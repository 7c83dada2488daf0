using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// A head whose training features differ by loss, as the BNNeck of Luo et al. (2019): the feature before the batch-norm neck
/// feeds the metric (pair, triplet, proxy) losses and the feature after it the classification (softmax-family) losses.
/// <see cref="Models.RetrievalModel"/> passes both through its own <c>ForwardBoth</c>, which the trainer uses.
/// </summary>
public interface INeckHead
{
    /// <summary>Both features of a batch: <c>BeforeBatchNorm</c> for metric losses, <c>AfterBatchNorm</c> for classification losses and inference.</summary>
    /// <param name="features">N × D floating-point features.</param>
    (Tensor BeforeBatchNorm, Tensor AfterBatchNorm) ForwardBoth(Tensor features);
}
