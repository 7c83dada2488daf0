using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.Torch.Models;

/// <summary>
/// Everything needed to rebuild a <see cref="RetrievalModel"/> before its weights are loaded; <see cref="RetrievalModel.Save"/>
/// stores it as JSON in the weight file. Start from <see cref="For"/>, which fills the backbone's input size and normalisation
/// from <see cref="BackboneRegistry"/>, and change fields with <c>with</c>.
/// </summary>
/// <param name="BackboneName">A <see cref="BackboneRegistry"/> name, e.g. <c>resnet50</c> or <c>small_cnn</c>.</param>
/// <param name="InputChannels">Channels of the input images; equals the length of <paramref name="Mean"/> and <paramref name="Std"/>.</param>
/// <param name="Pooling">Global pooling: <c>gem</c>, <c>mac</c>, <c>spoc</c> or <c>rmac</c> (see <see cref="PoolingKinds"/>).</param>
/// <param name="GemP">The initial (or fixed) GeM exponent; ignored by the other poolings.</param>
/// <param name="GemLearnable">Whether the GeM exponent is trained.</param>
/// <param name="EmbeddingDimension">The embedding width; with head <c>none</c> it must equal the backbone's output channels.</param>
/// <param name="Head">
/// The head after pooling: <c>none</c>, <c>linear</c> (a learned projection), <c>linear_bn</c> (projection then batch norm) or
/// <c>bnneck</c> (projection then the BNNeck of Luo et al., whose bias is frozen); see <see cref="HeadKinds"/>.
/// </param>
/// <param name="Normalize">L2-normalise the embeddings (so cosine similarity is a dot product).</param>
/// <param name="InputSize">The square image size the model expects (used by feature extraction to resize).</param>
/// <param name="Mean">Per-channel mean subtracted from images in [0, 1] inside the model.</param>
/// <param name="Std">Per-channel standard deviation the images are divided by inside the model.</param>
public sealed record RetrievalModelConfig(
    string BackboneName,
    int InputChannels,
    string Pooling,
    double GemP,
    bool GemLearnable,
    int EmbeddingDimension,
    string Head,
    bool Normalize,
    int InputSize,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std)
{
    /// <summary>The pooling names: <c>gem</c>, <c>mac</c>, <c>spoc</c>, <c>rmac</c>.</summary>
    public static IReadOnlyList<string> PoolingKinds { get; } = ["gem", "mac", "spoc", "rmac"];

    /// <summary>The head names: <c>none</c>, <c>linear</c>, <c>linear_bn</c>, <c>bnneck</c>.</summary>
    public static IReadOnlyList<string> HeadKinds { get; } = ["none", "linear", "linear_bn", "bnneck"];

    /// <summary>
    /// The default configuration for a registered backbone: learnable GeM with p = 3, no head (the embedding is the pooled
    /// backbone output), L2-normalised, with the backbone's input size, channels, mean and standard deviation.
    /// </summary>
    /// <param name="backboneName">A registered backbone name.</param>
    /// <param name="embeddingDimension">Null to use the backbone's output channels with no head; a width to add a <c>linear</c> head.</param>
    /// <exception cref="ArgumentException">The backbone is not registered, or the width is not positive.</exception>
    public static RetrievalModelConfig For(string backboneName, int? embeddingDimension = null)
    {
        var info = BackboneRegistry.Describe(backboneName);
        if (embeddingDimension is <= 0)
            throw new ArgumentOutOfRangeException(nameof(embeddingDimension), embeddingDimension, "The embedding dimension must be positive.");
        return new RetrievalModelConfig(info.Name, info.InputChannels, "gem", 3.0, true, embeddingDimension ?? info.OutputChannels,
            embeddingDimension is null ? "none" : "linear", true, info.InputSize, info.Mean.ToArray(), info.Std.ToArray());
    }

    /// <summary>Throws unless every field is usable: known backbone, pooling and head, consistent widths, finite positive values.</summary>
    /// <exception cref="ArgumentException">A field is invalid; the message names it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BackboneName) || !BackboneRegistry.Contains(BackboneName))
            throw new ArgumentException($"Unknown backbone '{BackboneName}'. Registered backbones: {string.Join(", ", BackboneRegistry.Names)}.", nameof(BackboneName));
        if (!PoolingKinds.Contains(Pooling))
            throw new ArgumentException($"Unknown pooling '{Pooling}'; use one of {string.Join(", ", PoolingKinds)}.", nameof(Pooling));
        if (!HeadKinds.Contains(Head))
            throw new ArgumentException($"Unknown head '{Head}'; use one of {string.Join(", ", HeadKinds)}.", nameof(Head));
        if (!(GemP > 0) || double.IsInfinity(GemP))
            throw new ArgumentException($"The GeM exponent must be positive and finite; got {GemP}.", nameof(GemP));
        if (InputChannels <= 0)
            throw new ArgumentException($"InputChannels must be positive; got {InputChannels}.", nameof(InputChannels));
        if (EmbeddingDimension <= 0)
            throw new ArgumentException($"EmbeddingDimension must be positive; got {EmbeddingDimension}.", nameof(EmbeddingDimension));
        if (InputSize <= 0)
            throw new ArgumentException($"InputSize must be positive; got {InputSize}.", nameof(InputSize));
        if (Mean is null || Std is null || Mean.Count != InputChannels || Std.Count != InputChannels)
            throw new ArgumentException($"Mean and Std need one value per input channel ({InputChannels}); got {Mean?.Count ?? 0} and {Std?.Count ?? 0}.", nameof(Mean));
        if (Mean.Any(m => !float.IsFinite(m)) || Std.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new ArgumentException("Mean must be finite and Std positive and finite.", nameof(Std));
        int channels = BackboneRegistry.Describe(BackboneName).OutputChannels;
        if (Head == "none" && EmbeddingDimension != channels)
            throw new ArgumentException(
                $"With head 'none' the embedding is the pooled backbone output, so EmbeddingDimension must be {channels} for '{BackboneName}'; got {EmbeddingDimension}.",
                nameof(EmbeddingDimension));
    }

    /// <summary>Field-by-field equality, comparing <see cref="Mean"/> and <see cref="Std"/> by their values.</summary>
    /// <param name="other">Another configuration.</param>
    public bool Equals(RetrievalModelConfig? other) =>
        other is not null && BackboneName == other.BackboneName && InputChannels == other.InputChannels && Pooling == other.Pooling
        && GemP.Equals(other.GemP) && GemLearnable == other.GemLearnable && EmbeddingDimension == other.EmbeddingDimension
        && Head == other.Head && Normalize == other.Normalize && InputSize == other.InputSize
        && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    /// <summary>A hash consistent with <see cref="Equals(RetrievalModelConfig?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(BackboneName, Pooling, Head, EmbeddingDimension, InputChannels, InputSize, Normalize, GemP);
}
