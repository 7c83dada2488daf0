using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// The head of a retrieval model after pooling: an optional learned projection (<see cref="LinearProjection"/>, named
/// <c>projection</c>) followed by an optional neck (named <c>neck</c>: a <c>BatchNorm1d</c> that belongs to the embedding, or a
/// <see cref="BNNeck"/> that splits the training features). <see cref="HeadRegistry"/> builds it for the heads
/// <c>linear</c>, <c>linear_bn</c> and <c>bnneck</c>. N × in in, N × out out; not L2-normalised (the model does that for the
/// cosine metric).
/// </summary>
public sealed class EmbeddingHead : nn.Module<Tensor, Tensor>, INeckHead
{
    private readonly LinearProjection? projection;
    private readonly nn.Module<Tensor, Tensor>? neck;

    /// <summary>Creates the head.</summary>
    /// <param name="inputFeatures">The pooled width.</param>
    /// <param name="outputFeatures">The embedding width; must equal <paramref name="inputFeatures"/> without a projection.</param>
    /// <param name="project">Learn a projection from <paramref name="inputFeatures"/> to <paramref name="outputFeatures"/>.</param>
    /// <param name="neck">What follows the projection.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive, or the neck is not a <see cref="HeadNeck"/> value.</exception>
    /// <exception cref="ArgumentException">The widths differ but there is no projection.</exception>
    public EmbeddingHead(int inputFeatures, int outputFeatures, bool project = true, HeadNeck neck = HeadNeck.None) : base(nameof(EmbeddingHead))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputFeatures);
        if (!Enum.IsDefined(neck))
            throw new ArgumentOutOfRangeException(nameof(neck), neck, "Unknown neck.");
        if (!project && inputFeatures != outputFeatures)
            throw new ArgumentException($"Without a projection the embedding width must equal the pooled width {inputFeatures}; got {outputFeatures}.", nameof(outputFeatures));
        InputFeatures = inputFeatures;
        OutputFeatures = outputFeatures;
        Neck = neck;
        if (project)
        {
            projection = new LinearProjection(inputFeatures, outputFeatures);
            register_module("projection", projection);
        }
        this.neck = neck switch
        {
            HeadNeck.BatchNorm => nn.BatchNorm1d(outputFeatures),
            HeadNeck.BNNeck => new BNNeck(outputFeatures),
            _ => null,
        };
        if (this.neck is not null)
            register_module("neck", this.neck);
    }

    /// <summary>The pooled width.</summary>
    public int InputFeatures { get; }

    /// <summary>The embedding width.</summary>
    public int OutputFeatures { get; }

    /// <summary>What follows the projection.</summary>
    public HeadNeck Neck { get; }

    /// <summary>The projection, or null.</summary>
    public LinearProjection? Projection => projection;

    /// <summary>The embedding: projection, then the neck.</summary>
    /// <param name="features">N × in floating-point features.</param>
    /// <exception cref="ArgumentException">The input is not 2-D floating point with the input width.</exception>
    public override Tensor forward(Tensor features) => ForwardBoth(features).AfterBatchNorm;

    /// <summary>
    /// Both training features. With a <see cref="HeadNeck.BNNeck"/> they are the projection and the batch-normalised
    /// projection; otherwise both are the embedding (with <see cref="HeadNeck.BatchNorm"/> the normalisation is part of it).
    /// </summary>
    /// <param name="features">N × in floating-point features.</param>
    /// <exception cref="ArgumentException">The input is not 2-D floating point with the input width.</exception>
    public (Tensor BeforeBatchNorm, Tensor AfterBatchNorm) ForwardBoth(Tensor features)
    {
        HeadInput.Check(features, nameof(features), InputFeatures);
        Tensor projected = projection is null ? features : projection.forward(features);
        if (neck is null)
            return (projected, projected);
        Tensor normalised = neck.forward(projected);
        return Neck == HeadNeck.BNNeck ? (projected, normalised) : (normalised, normalised);
    }
}
