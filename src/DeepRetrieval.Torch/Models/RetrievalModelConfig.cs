using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Heads;
using DeepRetrieval.Torch.Pooling;

namespace DeepRetrieval.Torch.Models;

/// <summary>
/// Everything needed to rebuild a <see cref="RetrievalModel"/> before its weights are loaded; <see cref="RetrievalModel.Save"/>
/// stores it as JSON in the weight file. Start from <see cref="For"/>, which fills the backbone's input size and normalisation
/// from <see cref="BackboneRegistry"/>, and change fields with <c>with</c>.
/// </summary>
/// <param name="BackboneName">A <see cref="BackboneRegistry"/> name, e.g. <c>resnet50</c> or <c>small_cnn</c>.</param>
/// <param name="InputChannels">Channels of the input images; equals the length of <paramref name="Mean"/> and <paramref name="Std"/>.</param>
/// <param name="Pooling">
/// The global pooling, a <see cref="PoolingRegistry"/> specification: <c>gem</c>, <c>gem(p=4, learnable=false)</c>, <c>mac</c>,
/// <c>spoc</c>, <c>rmac(levels=3)</c>, <c>bilinear</c>, <c>compact_bilinear(dim=8192)</c>, ...
/// </param>
/// <param name="EmbeddingDimension">The embedding width; with head <c>none</c> it must equal the pooled width.</param>
/// <param name="Head">
/// The head after pooling, a <see cref="HeadRegistry"/> specification: <c>none</c>, <c>linear</c> (a learned projection),
/// <c>linear_bn</c> (projection then batch norm), <c>bnneck</c> (projection then the BNNeck of Luo et al., whose two features
/// reach the metric and the classification losses separately) or <c>pca_whitening</c>.
/// </param>
/// <param name="Metric">
/// How the embeddings are compared, decided once here: <see cref="DeepRetrieval.Metric.Cosine"/> makes the model L2-normalise
/// its output; with <see cref="DeepRetrieval.Metric.InnerProduct"/> and <see cref="DeepRetrieval.Metric.L2"/> the output is
/// used as it is. Validation, feature extraction and indexes follow it.
/// </param>
/// <param name="InputSize">The square image size the model expects (used by feature extraction to resize).</param>
/// <param name="Mean">Per-channel mean subtracted from images in [0, 1] inside the model.</param>
/// <param name="Std">Per-channel standard deviation the images are divided by inside the model.</param>
public sealed record RetrievalModelConfig(
    string BackboneName,
    int InputChannels,
    string Pooling,
    int EmbeddingDimension,
    string Head,
    Metric Metric,
    int InputSize,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std)
{
    /// <summary>
    /// The default configuration for a registered backbone: learnable GeM with p = 3, no head (the embedding is the pooled
    /// backbone output), cosine metric, with the input size, channels, mean and standard deviation of the backbone's entry
    /// (those of its pretrained weights).
    /// </summary>
    /// <param name="backboneName">A registered backbone name.</param>
    /// <param name="embeddingDimension">Null to use the backbone's output channels with no head; a width to add a <c>linear</c> head.</param>
    /// <exception cref="ArgumentException">The backbone is not registered, or the width is not positive.</exception>
    public static RetrievalModelConfig For(string backboneName, int? embeddingDimension = null)
    {
        var info = BackboneRegistry.Describe(backboneName);
        if (embeddingDimension is <= 0)
            throw new ArgumentOutOfRangeException(nameof(embeddingDimension), embeddingDimension, "The embedding dimension must be positive.");
        return new RetrievalModelConfig(info.Name, info.InputChannels, "gem", embeddingDimension ?? info.OutputChannels,
            embeddingDimension is null ? "none" : "linear", Metric.Cosine, info.InputSize, info.Mean.ToArray(), info.Std.ToArray());
    }

    /// <summary>The width of the pooled descriptor: the pooling's output for the backbone's channels.</summary>
    /// <exception cref="ArgumentException">The backbone or the pooling is invalid.</exception>
    public int PooledDimension => PoolingRegistry.OutputDimension(Pooling, BackboneRegistry.Describe(BackboneName).OutputChannels);

    /// <summary>Throws unless every field is usable: known backbone, pooling and head with valid arguments, consistent widths, finite positive values.</summary>
    /// <exception cref="ArgumentException">A field is invalid; the message names it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BackboneName) || !BackboneRegistry.Contains(BackboneName))
            throw new ArgumentException($"Unknown backbone '{BackboneName}'. Registered backbones: {string.Join(", ", BackboneRegistry.Names)}.", nameof(BackboneName));
        if (InputChannels <= 0)
            throw new ArgumentException($"InputChannels must be positive; got {InputChannels}.", nameof(InputChannels));
        if (EmbeddingDimension <= 0)
            throw new ArgumentException($"EmbeddingDimension must be positive; got {EmbeddingDimension}.", nameof(EmbeddingDimension));
        if (!Enum.IsDefined(Metric))
            throw new ArgumentException($"Unknown metric {(int)Metric}.", nameof(Metric));
        if (InputSize <= 0)
            throw new ArgumentException($"InputSize must be positive; got {InputSize}.", nameof(InputSize));
        if (Mean is null || Std is null || Mean.Count != InputChannels || Std.Count != InputChannels)
            throw new ArgumentException($"Mean and Std need one value per input channel ({InputChannels}).", nameof(Mean));
        if (Mean.Any(m => !float.IsFinite(m)) || Std.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new ArgumentException("Mean must be finite and Std positive and finite.", nameof(Std));
        int pooled = Checked(() => PooledDimension, nameof(Pooling));
        Checked(() =>
        {
            HeadRegistry.CheckWidths(Head, pooled, EmbeddingDimension);
            return 0;
        }, nameof(Head));
    }

    /// <summary>Field-by-field equality, comparing <see cref="Mean"/> and <see cref="Std"/> by their values.</summary>
    /// <param name="other">Another configuration.</param>
    public bool Equals(RetrievalModelConfig? other) =>
        other is not null && BackboneName == other.BackboneName && InputChannels == other.InputChannels && Pooling == other.Pooling
        && EmbeddingDimension == other.EmbeddingDimension && Head == other.Head && Metric == other.Metric && InputSize == other.InputSize
        && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    /// <summary>A hash consistent with <see cref="Equals(RetrievalModelConfig?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(BackboneName, Pooling, Head, EmbeddingDimension, InputChannels, InputSize, Metric);

    // Re-throws a component's complaint with the configuration field's name.
    private static int Checked(Func<int> check, string field)
    {
        try
        {
            return check();
        }
        catch (ArgumentException e)
        {
            string message = e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;
            throw new ArgumentException($"{field}: {message}", field, e);
        }
    }
}
