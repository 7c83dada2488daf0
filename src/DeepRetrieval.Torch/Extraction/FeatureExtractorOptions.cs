using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Extraction;

/// <summary>Settings of a <see cref="FeatureExtractor"/>.</summary>
public sealed class FeatureExtractorOptions
{
    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Also embed each image flipped left-right and average the two (test-time augmentation).</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>
    /// Scales at which each image is embedded (bilinear resize of the batch by the factor); the embeddings are averaged. The
    /// default { 1 } is single-scale; retrieval commonly uses { 1, 1/√2, 1/2 } (cirtorch) or <see cref="RetrievalScales"/>.
    /// </summary>
    public IReadOnlyList<double> Scales { get; init; } = [1.0];

    /// <summary>
    /// L2-normalise each view's embedding before averaging and the average afterwards, so every output row has unit length
    /// and cosine similarity is a dot product. When false, views are averaged as they come and nothing is normalised. Null
    /// (the default) lets the model decide: an <see cref="IEmbeddingModel"/> such as a <c>RetrievalModel</c> is normalised
    /// exactly when its metric is cosine; any other module is normalised.
    /// </summary>
    public bool? Normalize { get; init; }

    /// <summary>Device the images are moved to; null for the device of the model's first parameter (CPU for a model without parameters).</summary>
    public Device? Device { get; init; }

    /// <summary>The scales { 1, 1/√2, √2 }: an image at its size, one step smaller and one step larger.</summary>
    public static IReadOnlyList<double> RetrievalScales { get; } = [1.0, 1 / Math.Sqrt(2), Math.Sqrt(2)];

    /// <summary>Checks that the settings are usable.</summary>
    /// <exception cref="ArgumentException">The batch size is not positive, or a scale is missing, not finite or not positive.</exception>
    public void Validate()
    {
        if (BatchSize <= 0)
            throw new ArgumentException($"BatchSize must be positive; got {BatchSize}.", nameof(BatchSize));
        if (Scales is null || Scales.Count == 0 || Scales.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new ArgumentException($"Scales must hold at least one positive finite factor; got [{string.Join(", ", Scales ?? [])}].", nameof(Scales));
    }
}
