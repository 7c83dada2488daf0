using DeepRetrieval.Evaluation;
using DeepRetrieval.Indexes;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Validation of an embedding model by leave-one-out retrieval, with the library's own exact index and evaluator: the
/// embeddings go into a <see cref="FlatIndex"/> under the metric, every item queries it for its R + 1 nearest neighbours
/// (R = the largest number of other items sharing a label), its own id is removed
/// (<see cref="RetrievalEvaluator.ExcludeSelfMatches"/>), and <see cref="RetrievalEvaluator"/> scores the rest.
/// </summary>
public static class EmbeddingValidation
{
    /// <summary>
    /// Embeds a source with a <see cref="FeatureExtractor"/> (evaluation mode without gradients, batch by batch, no L2
    /// normalisation of its own) and returns the N × d embeddings (float32, CPU), one row per readable image in source order.
    /// </summary>
    /// <param name="model">The embedding model; its training mode is restored afterwards.</param>
    /// <param name="set">The images.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <exception cref="InvalidOperationException">The model does not return an N × d tensor, or returns NaN or infinity.</exception>
    public static Tensor Embed(nn.Module<Tensor, Tensor> model, IImageBatchSource set, int batchSize = 256)
    {
        ExtractedFeatures features = Extract(model, set, batchSize);
        return EmbeddingTensor.FromRowMajor(features.Vectors, features.Dimension);
    }

    /// <summary>
    /// Embeds a labelled source and scores leave-one-out retrieval; images that cannot be read (a file source) are left out,
    /// with their labels.
    /// </summary>
    /// <param name="model">The embedding model.</param>
    /// <param name="set">The validation images, with labels; at least two readable.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <param name="metric">How embeddings are compared; null for the model's metric when it is an <see cref="IEmbeddingModel"/>, else the cosine.</param>
    /// <exception cref="ArgumentException">The set has no labels or fewer than two readable images.</exception>
    /// <exception cref="InvalidOperationException">The model does not return an N × d tensor, or returns NaN or infinity.</exception>
    public static ValidationMetrics Evaluate(nn.Module<Tensor, Tensor> model, ITrainingImageSource set, int batchSize = 256, Metric? metric = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        if (set.Labels is null) throw new ArgumentException("Validation needs labelled images; this image set has no labels.", nameof(set));
        ExtractedFeatures features = Extract(model, set, batchSize);
        using var scope = NewDisposeScope();
        return Evaluate(EmbeddingTensor.FromRowMajor(features.Vectors, features.Dimension), features.Labels!,
            metric ?? (model as IEmbeddingModel)?.Metric ?? Metric.Cosine);
    }

    private static ExtractedFeatures Extract(nn.Module<Tensor, Tensor> model, IImageBatchSource set, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        var extractor = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = batchSize, Normalize = false });
        return extractor.Extract(set);
    }

    /// <summary>Scores leave-one-out retrieval of given embeddings.</summary>
    /// <param name="embeddings">N × d embeddings.</param>
    /// <param name="labels">N labels.</param>
    /// <param name="metric">
    /// How embeddings are compared. Cosine rows are L2-normalised here (an all-zero row stays zero, as <c>F.normalize</c>
    /// leaves it, rather than being rejected) and ranked by inner product, which equals the cosine on unit rows.
    /// </param>
    /// <exception cref="ArgumentException">Shapes disagree, fewer than two items, or the embeddings hold NaN or infinity.</exception>
    public static ValidationMetrics Evaluate(Tensor embeddings, IReadOnlyList<long> labels, Metric metric = Metric.Cosine)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        if (embeddings.dim() != 2 || embeddings.shape[0] != labels.Count)
            throw new ArgumentException($"Expected {labels.Count} × d embeddings; got shape [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric.");
        int n = labels.Count;
        if (n < 2) throw new ArgumentException("Leave-one-out retrieval needs at least two items.", nameof(labels));
        float[] rows;
        using (var scope = NewDisposeScope())
        using (var noGrad = no_grad())
        {
            Tensor x = embeddings.detach();
            if (!x.is_floating_point())
                throw new ArgumentException($"Embeddings must be floating point; got {x.dtype}.", nameof(embeddings));
            if (!x.isfinite().all().item<bool>())
                throw new ArgumentException("The embeddings contain NaN or infinite values.", nameof(embeddings));
            rows = EmbeddingTensor.ToRowMajor(metric == Metric.Cosine ? nn.functional.normalize(x.to(ScalarType.Float32), p: 2, dim: 1) : x);
        }
        int dimension = (int)embeddings.shape[1];

        long[] labelArray = labels as long[] ?? labels.ToArray();
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = i;
        var index = new FlatIndex(dimension, metric == Metric.Cosine ? Metric.InnerProduct : metric);
        index.Add(rows, ids);
        int[] relevant = RetrievalEvaluator.CountRelevant<long>(labelArray, labelArray, queriesAreReferences: true);
        int k = Math.Clamp(relevant.Max(), 1, n - 1);
        // k + 1 neighbours: the query finds itself (or a duplicate of itself) among them, and ExcludeSelfMatches drops it by id.
        var found = new long[(long)n * (k + 1)];
        var similarities = new float[found.Length];
        index.Search(rows, k + 1, found, similarities);
        long[] neighbors = RetrievalEvaluator.ExcludeSelfMatches(found, k + 1, ids);
        var report = RetrievalEvaluator.Evaluate<long>(labelArray, neighbors, k, labelArray, relevant, []);
        return new ValidationMetrics(report.PrecisionAt1, report.MeanAveragePrecisionAtR, report.RPrecision);
    }
}
