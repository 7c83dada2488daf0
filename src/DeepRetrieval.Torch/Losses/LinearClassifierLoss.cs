using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// A plain linear classifier head trained as a loss: logits <c>z = x·Wᵀ</c> over its own W (C × d, no bias, drawn from
/// N(0, 1/d)), scored by <see cref="ClassifierLoss.Criterion"/>: softmax cross-entropy by default, or any <see cref="LogitLoss"/>,
/// e.g. <c>new LinearClassifierLoss(C, d, new LabelSmoothingCrossEntropyLoss(0.1))</c> for PyTorch's
/// <c>CrossEntropyLoss(label_smoothing=0.1)</c> on <c>nn.Linear(d, C, bias=False)</c>, or focal, class-balanced, GHM-C or OHEM.
/// </summary>
public sealed class LinearClassifierLoss : ClassifierLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Reduction of the criterion's values; null is the mean.</param>
    public LinearClassifierLoss(int numClasses, int embeddingSize, LogitLoss? criterion = null, LossReducer? reducer = null)
        : base(nameof(LinearClassifierLoss), numClasses, embeddingSize, numClasses, 1 / Math.Sqrt(Math.Max(1, embeddingSize)),
            new DotProductSimilarity(normalizeEmbeddings: false), criterion, reducer) { }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings) => Distance.Pairwise(embeddings, WeightLike(embeddings));

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels) => (ComputeLogits(embeddings), labels);
}
