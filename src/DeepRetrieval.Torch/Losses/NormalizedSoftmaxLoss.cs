using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Normalized softmax loss (Zhai &amp; Wu 2018, "Classification is a Strong Baseline for Deep Metric Learning"; PML
/// <c>NormalizedSoftmaxLoss</c>): softmax cross-entropy over <c>zᵢ,c = s(xᵢ, w_c/‖w_c‖) / T</c> with temperature T (PML's 0.05)
/// and s the distance (by default the dot product of L2-normalised rows, i.e. the cosine, as PML's default
/// <c>DotProductSimilarity</c>); <c>ℓᵢ = −log softmax(zᵢ)[yᵢ]</c>, averaged over the batch. A true distance is negated.
/// </summary>
public sealed class NormalizedSoftmaxLoss : ClassifierLoss
{
    /// <summary>Creates the loss; W is drawn from N(0, 1) as PML.</summary>
    /// <param name="numClasses">C.</param>
    /// <param name="embeddingSize">d.</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="distance">Null is the dot product of normalised rows (PML's default).</param>
    /// <param name="criterion">The loss on the logits; null is softmax cross-entropy.</param>
    /// <param name="reducer">Null is the mean.</param>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not positive.</exception>
    public NormalizedSoftmaxLoss(int numClasses, int embeddingSize, double temperature = 0.05, EmbeddingDistance? distance = null,
        LogitLoss? criterion = null, LossReducer? reducer = null)
        : base(nameof(NormalizedSoftmaxLoss), numClasses, embeddingSize, numClasses, 1, distance ?? new DotProductSimilarity(normalizeEmbeddings: true), criterion, reducer)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive and finite.");
        Temperature = temperature;
    }

    /// <summary>T, the softmax temperature.</summary>
    public double Temperature { get; }

    /// <inheritdoc />
    protected override Tensor ComputeLogits(Tensor embeddings)
    {
        // A normalising distance already scales the weight rows; a second pass over the C × d matrix would only cost time.
        Tensor weight = WeightLike(embeddings);
        Tensor classes = Distance.NormalizeEmbeddings ? weight : nn.functional.normalize(weight, p: 2, dim: 1, eps: 1e-12);
        Tensor logits = Distance.Pairwise(embeddings, classes) / Temperature;
        return Distance.IsSimilarity ? logits : -logits;
    }

    /// <inheritdoc />
    protected override (Tensor Logits, Tensor Targets) ComputeTrainingLogits(Tensor embeddings, Tensor labels) => (ComputeLogits(embeddings), labels);
}
