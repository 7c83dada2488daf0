using static TorchSharp.torch;

namespace DeepRetrieval.Torch;

/// <summary>
/// An image-to-embedding network that states how its embeddings are compared and exposes both training features of a
/// BNNeck head. <see cref="Models.RetrievalModel"/> implements it; the trainer, the validation and the feature extractor read
/// <see cref="Metric"/> from it (normalisation is decided there, once), and the trainer feeds metric losses
/// <c>BeforeBatchNorm</c> and classification losses <c>AfterBatchNorm</c>. A plain <c>nn.Module&lt;Tensor, Tensor&gt;</c> works
/// too: its output is then both features, and the metric comes from the caller's options.
/// </summary>
public interface IEmbeddingModel
{
    /// <summary>
    /// How embeddings are compared: <see cref="Metric.Cosine"/> (the model L2-normalises its output), <see cref="Metric.InnerProduct"/>
    /// or <see cref="Metric.L2"/> (the output is used as it is). Build indexes over the embeddings with this metric.
    /// </summary>
    Metric Metric { get; }

    /// <summary>
    /// Both training features of a batch of images, neither L2-normalised: <c>BeforeBatchNorm</c> for metric (pair, triplet,
    /// proxy) losses and <c>AfterBatchNorm</c> for classification (softmax-family) losses. They are the same tensor unless the
    /// head has a BNNeck.
    /// </summary>
    /// <param name="images">N × C × H × W floating-point images.</param>
    (Tensor BeforeBatchNorm, Tensor AfterBatchNorm) ForwardBoth(Tensor images);
}
