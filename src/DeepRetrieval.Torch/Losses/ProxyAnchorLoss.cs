using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Miners;
using DeepRetrieval.Torch.Reducers;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Proxy-Anchor loss (Kim et al., "Proxy Anchor Loss for Deep Metric Learning", CVPR 2020), as pytorch-metric-learning's
/// <c>ProxyAnchorLoss</c>. One learnable proxy per class; with s the cosine similarity between embedding x and proxy p,
/// P⁺ the proxies that have a positive in the batch, X_p⁺ / X_p⁻ the batch elements of / not of p's class:
/// <c>L = (1/|P⁺|) Σ_{p∈P⁺} log(1 + Σ_{x∈X_p⁺} exp(−α (s(x, p) − δ))) + (1/|P|) Σ_{p∈P} log(1 + Σ_{x∈X_p⁻} exp(α (s(x, p) + δ)))</c>.
/// The two parts are per-proxy <see cref="LossTermKind.Element"/> terms whose default <see cref="MeanReducer"/> gives exactly
/// these divisors (PML's <c>DivisorReducer</c>); reducers that read anchors (<see cref="PerAnchorReducer"/>,
/// <see cref="ClassWeightedReducer"/>) are refused because the terms belong to proxies, not batch elements. With mined tuples,
/// element i's exponents get <c>w_i − 1</c> added, w_i being its number of occurrences in the tuples over the largest such
/// number (PML's <c>convert_to_weights</c>). Labels must lie in 0..numClasses−1; a reference set is not accepted. The proxies
/// are a <see cref="TorchSharp.Modules.Parameter"/> named <c>proxies</c>, so the optimiser trains them (the paper uses a 100× learning rate).
/// </summary>
public sealed class ProxyAnchorLoss : MetricLoss
{
    /// <summary>Creates the loss with PML's defaults; proxies are initialised by <c>kaiming_normal_(mode = fan_out)</c> as in PML.</summary>
    /// <param name="numClasses">Number of classes (proxies).</param>
    /// <param name="embeddingSize">Embedding dimension.</param>
    /// <param name="margin">δ (PML 0.1).</param>
    /// <param name="alpha">α, the scale (PML 32).</param>
    /// <param name="distance">How embeddings and proxies are compared; <see cref="CosineSimilarity"/> when null.</param>
    /// <param name="reducer">Reduces each part; <see cref="MeanReducer"/> when null.</param>
    /// <exception cref="ArgumentException">A size is not positive, δ is not finite, or α is not a finite positive number.</exception>
    public ProxyAnchorLoss(int numClasses, int embeddingSize, double margin = 0.1, double alpha = 32, EmbeddingDistance? distance = null, LossReducer? reducer = null)
        : base(nameof(ProxyAnchorLoss), distance ?? new CosineSimilarity(), reducer ?? new MeanReducer())
    {
        if (numClasses <= 0) throw new ArgumentException($"The number of classes must be positive; got {numClasses}.", nameof(numClasses));
        if (embeddingSize <= 0) throw new ArgumentException($"The embedding size must be positive; got {embeddingSize}.", nameof(embeddingSize));
        if (!double.IsFinite(margin)) throw new ArgumentException($"The margin must be finite; got {margin}.", nameof(margin));
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentException($"Alpha must be a finite positive number; got {alpha}.", nameof(alpha));
        NumClasses = numClasses;
        EmbeddingSize = embeddingSize;
        Margin = margin;
        Alpha = alpha;
        using (no_grad())
        {
            Tensor initial = empty(numClasses, embeddingSize);
            nn.init.kaiming_normal_(initial, mode: nn.init.FanInOut.FanOut);
            // Detached from any open dispose scope: the proxies live as long as the module.
            var proxies = new TorchSharp.Modules.Parameter(initial, requires_grad: true);
            proxies.DetachFromDisposeScope();
            register_parameter("proxies", proxies);
        }
    }

    /// <summary>Number of classes (proxies).</summary>
    public int NumClasses { get; }

    /// <summary>Embedding dimension.</summary>
    public int EmbeddingSize { get; }

    /// <summary>δ, the margin.</summary>
    public double Margin { get; }

    /// <summary>α, the scale.</summary>
    public double Alpha { get; }

    /// <summary>The numClasses × embeddingSize proxies (PML's <c>proxies</c>); copy values into it under <c>no_grad</c> to set them.</summary>
    // Looked up by name because Module.to replaces the parameter when it changes dtype or device.
    public TorchSharp.Modules.Parameter Proxies => get_parameter("proxies")!;

    /// <inheritdoc />
    protected override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        PairLossMath.RejectReference(input, nameof(ProxyAnchorLoss));
        if (Reducer is PerAnchorReducer or ClassWeightedReducer)
            throw new InvalidOperationException($"{nameof(ProxyAnchorLoss)} reduces per-proxy terms; {Reducer.GetType().Name} reads batch anchors and does not apply.");
        if (input.Embeddings.shape[1] != EmbeddingSize)
            throw new ArgumentException($"Embeddings have {input.Embeddings.shape[1]} components but the proxies have {EmbeddingSize}.", "embeddings");
        Tensor labels = input.Labels;
        if (labels.shape[0] > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= NumClasses))
            throw new ArgumentException($"Labels must lie in 0..{NumClasses - 1}; got {labels.min().item<long>()}..{labels.max().item<long>()}.", "labels");

        Tensor embeddings = input.Embeddings;
        Tensor proxies = Proxies.to(embeddings.dtype, embeddings.device);
        Tensor similarity = Distance.Pairwise(embeddings, proxies);
        Tensor positiveMask = nn.functional.one_hot(labels, NumClasses).to(ScalarType.Bool);
        Tensor negativeMask = positiveMask.logical_not();
        Tensor minerWeights = MinerWeights(input.Tuples, labels.shape[0], embeddings.dtype, embeddings.device).unsqueeze(1) - 1;

        Tensor positiveExponent = PairLossMath.Above(Distance.IsSimilarity, similarity, Margin);
        Tensor negativeExponent = -PairLossMath.Above(Distance.IsSimilarity, similarity, -Margin);
        Tensor positive = PairLossMath.MaskedLogSumExp(Alpha * positiveExponent + minerWeights, positiveMask, addOne: true, dimension: 0);
        Tensor negative = PairLossMath.MaskedLogSumExp(Alpha * negativeExponent + minerWeights, negativeMask, addOne: true, dimension: 0);
        Tensor withPositives = positiveMask.any(0).nonzero().squeeze(1);
        yield return new LossTerms(positive.index_select(0, withPositives), LossTermKind.Element, withPositives);
        yield return new LossTerms(negative, LossTermKind.Element, arange(NumClasses, dtype: ScalarType.Int64, device: embeddings.device));
    }

    private static Tensor MinerWeights(IndexTuples? tuples, long count, ScalarType dtype, Device device)
    {
        Tensor[] parts = tuples switch
        {
            null => [],
            PairTuples p => [p.PositiveAnchors, p.Positives, p.NegativeAnchors, p.Negatives],
            TripletTuples t => [t.Anchors, t.Positives, t.Negatives],
            _ => throw new ArgumentException($"Unknown tuple type {tuples.GetType().Name}.", nameof(tuples)),
        };
        Tensor all = parts.Length == 0 ? zeros(0, dtype: ScalarType.Int64, device: device) : cat(parts);
        if (all.shape[0] == 0) return ones(count, dtype: dtype, device: device);
        Tensor occurrences = zeros(count, dtype: dtype, device: device).index_add(0, all, ones(all.shape[0], dtype: dtype, device: device), 1);
        return occurrences / occurrences.max();
    }
}
