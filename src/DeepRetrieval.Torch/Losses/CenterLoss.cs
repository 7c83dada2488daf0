using DeepRetrieval.Torch.Distances;
using DeepRetrieval.Torch.Reducers;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// Center loss (Wen et al., "A Discriminative Feature Learning Approach for Deep Face Recognition", ECCV 2016):
/// <c>L_C = ½ ‖x_i − c_{y_i}‖²</c> per batch element, reduced by <see cref="MeanReducer"/> by default, and used beside a
/// softmax loss as <c>L_S + λ L_C</c>. The class centres are not trained by the optimiser: they are a buffer named
/// <c>centers</c> (saved with the module's state) that <see cref="UpdateCenters"/> moves after each step by the paper's rule
/// <c>c_j ← c_j − α Δc_j</c>, <c>Δc_j = Σ_i δ(y_i = j)(c_j − x_i) / (1 + Σ_i δ(y_i = j))</c>. With mined tuples only the
/// distinct anchors the tuples name contribute. Labels must lie in 0..numClasses−1; a reference set is not accepted.
/// </summary>
public class CenterLoss : MetricLoss
{
    /// <summary>Creates the loss with centres drawn from N(0, 1) (as common PyTorch ports do; the Caffe original lets the user pick a filler).</summary>
    /// <param name="numClasses">Number of classes (centres).</param>
    /// <param name="embeddingSize">Embedding dimension.</param>
    /// <param name="alpha">α, the centre learning rate in [0, 1] (the paper uses 0.5).</param>
    /// <param name="reducer">Reduces the per-element values; <see cref="MeanReducer"/> when null.</param>
    /// <exception cref="ArgumentException">A size is not positive or α is outside [0, 1].</exception>
    public CenterLoss(int numClasses, int embeddingSize, double alpha = 0.5, LossReducer? reducer = null)
        : this(nameof(CenterLoss), numClasses, embeddingSize, alpha, reducer) { }

    /// <summary>Creates the loss for a subclass.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="numClasses">Number of classes (centres).</param>
    /// <param name="embeddingSize">Embedding dimension.</param>
    /// <param name="alpha">α, the centre learning rate in [0, 1].</param>
    /// <param name="reducer">Reduces the per-element values; <see cref="MeanReducer"/> when null.</param>
    protected CenterLoss(string name, int numClasses, int embeddingSize, double alpha, LossReducer? reducer)
        : base(name, new LpDistance(normalizeEmbeddings: false, p: 2, power: 2), reducer ?? new MeanReducer())
    {
        if (numClasses <= 0) throw new ArgumentException($"The number of classes must be positive; got {numClasses}.", nameof(numClasses));
        if (embeddingSize <= 0) throw new ArgumentException($"The embedding size must be positive; got {embeddingSize}.", nameof(embeddingSize));
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"Alpha must lie in [0, 1]; got {alpha}.", nameof(alpha));
        NumClasses = numClasses;
        EmbeddingSize = embeddingSize;
        Alpha = alpha;
        // Detached from any open dispose scope: the centres live as long as the module.
        register_buffer("centers", randn(numClasses, embeddingSize).DetachFromDisposeScope());
    }

    /// <summary>Number of classes (centres).</summary>
    public int NumClasses { get; }

    /// <summary>Embedding dimension.</summary>
    public int EmbeddingSize { get; }

    /// <summary>α, the centre learning rate of <see cref="UpdateCenters"/>.</summary>
    public double Alpha { get; }

    /// <summary>The numClasses × embeddingSize centres; write into it under <c>no_grad</c> to set them.</summary>
    // Looked up by name because Module.to replaces the buffer's tensor when it changes dtype or device.
    public Tensor Centers => get_buffer("centers")!;

    /// <summary>Moves the centres of the classes present in a batch towards their members (the paper's update, after each optimiser step).</summary>
    /// <param name="embeddings">n × d embeddings (their gradient is not used).</param>
    /// <param name="labels">n labels in 0..numClasses−1.</param>
    /// <exception cref="ArgumentException">Shapes do not match, the embeddings are not finite, or a label is out of range.</exception>
    public void UpdateCenters(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor centers = Centers;
        Tensor x = CheckBatch(embeddings, labels).detach().to(centers.dtype, centers.device);
        Tensor y = labels.to(ScalarType.Int64).to(centers.device);
        Tensor counts = zeros(NumClasses, dtype: x.dtype, device: x.device).index_add(0, y, ones(y.shape[0], dtype: x.dtype, device: x.device), 1).unsqueeze(1);
        Tensor sums = zeros_like(centers).index_add(0, y, x, 1);
        Tensor delta = (counts * centers - sums) / (1 + counts);
        centers.sub_(Alpha * (delta + ExtraCenterDelta(centers)));
    }

    /// <summary>An extra term added to every Δc_j by a subclass (the island term); zero for the plain center loss.</summary>
    /// <param name="centers">The current centres.</param>
    protected virtual Tensor ExtraCenterDelta(Tensor centers) => zeros_like(centers);

    /// <summary>Terms a subclass adds to the loss (already reduced); none for the plain center loss.</summary>
    /// <param name="centers">The centres, in the embeddings' dtype and device.</param>
    protected virtual IEnumerable<LossTerms> ExtraTerms(Tensor centers) => [];

    /// <inheritdoc />
    protected sealed override IEnumerable<LossTerms> ComputeTerms(LossInput input)
    {
        PairLossMath.RejectReference(input, GetType().Name);
        CheckBatch(input.Embeddings, input.Labels);
        Tensor embeddings = input.Embeddings;
        Tensor centers = Centers.to(embeddings.dtype, embeddings.device);
        Tensor values = 0.5 * Distance.Paired(embeddings, centers.index_select(0, input.Labels));
        if (input.Tuples is null)
            yield return new LossTerms(values, LossTermKind.Element);
        else
        {
            Tensor anchors = PairLossMath.AnchorsOf(input.Tuples);
            yield return new LossTerms(values.index_select(0, anchors), LossTermKind.Element, anchors);
        }
        foreach (LossTerms extra in ExtraTerms(centers)) yield return extra;
    }

    private Tensor CheckBatch(Tensor embeddings, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        if (embeddings.dim() != 2 || embeddings.shape[1] != EmbeddingSize)
            throw new ArgumentException($"Embeddings must be n × {EmbeddingSize}; got shape [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        if (!embeddings.is_floating_point() || !embeddings.detach().isfinite().all().item<bool>())
            throw new ArgumentException("Embeddings must be floating point, without NaN or infinity.", nameof(embeddings));
        if (labels.dim() != 1 || labels.shape[0] != embeddings.shape[0])
            throw new ArgumentException($"Expected {embeddings.shape[0]} labels; got shape [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.shape[0] > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= NumClasses))
            throw new ArgumentException($"Labels must lie in 0..{NumClasses - 1}; got {labels.min().item<long>()}..{labels.max().item<long>()}.", nameof(labels));
        return embeddings;
    }
}
