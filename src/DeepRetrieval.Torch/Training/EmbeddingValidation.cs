using DeepRetrieval.Evaluation;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// Validation of an embedding model by leave-one-out retrieval: every item queries all the others, its R nearest neighbours
/// (R = the largest number of other items sharing a label) are found exactly, and <see cref="RetrievalEvaluator"/> scores them.
/// </summary>
public static class EmbeddingValidation
{
    private const int QueryBlock = 1024;

    /// <summary>
    /// Embeds a set with a <see cref="FeatureExtractor"/> (evaluation mode without gradients, batch by batch, no L2
    /// normalisation) and returns the N × d embeddings (float32, CPU).
    /// </summary>
    /// <param name="model">The embedding model; its training mode is restored afterwards.</param>
    /// <param name="set">The images.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <exception cref="InvalidOperationException">The model does not return an N × d tensor, or returns NaN or infinity.</exception>
    public static Tensor Embed(nn.Module<Tensor, Tensor> model, TensorImageSet set, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        var extractor = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = batchSize, Normalize = false });
        ExtractedFeatures features = extractor.Extract(set);
        return tensor(features.Vectors, [features.Count, features.Dimension]);
    }

    /// <summary>Embeds a set and scores leave-one-out retrieval.</summary>
    /// <param name="model">The embedding model.</param>
    /// <param name="set">The validation images, with labels; at least two.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <param name="normalize">Compare L2-normalised embeddings (cosine ranking) rather than raw Euclidean distance.</param>
    /// <exception cref="ArgumentException">The set has no labels or fewer than two images.</exception>
    /// <exception cref="InvalidOperationException">The model does not return an N × d tensor, or returns NaN or infinity.</exception>
    public static ValidationMetrics Evaluate(nn.Module<Tensor, Tensor> model, TensorImageSet set, int batchSize = 256, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (set.Labels is null) throw new ArgumentException("Validation needs labelled images; this image set has no labels.", nameof(set));
        using var scope = NewDisposeScope();
        return Evaluate(Embed(model, set, batchSize), set.Labels, normalize);
    }

    /// <summary>Scores leave-one-out retrieval of given embeddings.</summary>
    /// <param name="embeddings">N × d embeddings.</param>
    /// <param name="labels">N labels.</param>
    /// <param name="normalize">Compare L2-normalised embeddings.</param>
    /// <exception cref="ArgumentException">Shapes disagree, fewer than two items, or the embeddings hold NaN or infinity.</exception>
    public static ValidationMetrics Evaluate(Tensor embeddings, IReadOnlyList<long> labels, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        if (embeddings.dim() != 2 || embeddings.shape[0] != labels.Count)
            throw new ArgumentException($"Expected {labels.Count} × d embeddings; got shape [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        int n = labels.Count;
        if (n < 2) throw new ArgumentException("Leave-one-out retrieval needs at least two items.", nameof(labels));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = embeddings.detach().to(ScalarType.Float32).cpu();
        if (!x.isfinite().all().item<bool>())
            throw new ArgumentException("The embeddings contain NaN or infinite values.", nameof(embeddings));
        if (normalize) x = nn.functional.normalize(x, p: 2, dim: 1);

        long[] labelArray = labels as long[] ?? labels.ToArray();
        int[] relevant = RetrievalEvaluator.CountRelevant<long>(labelArray, labelArray, queriesAreReferences: true);
        int k = Math.Clamp(relevant.Max(), 1, n - 1);
        var neighbors = new long[(long)n * k];
        Tensor squaredNorms = x.pow(2).sum(1);
        for (int start = 0; start < n; start += QueryBlock)
        {
            using var blockScope = NewDisposeScope();
            int length = Math.Min(QueryBlock, n - start);
            Tensor queries = x.narrow(0, start, length);
            // Squared Euclidean distance; the query itself is pushed to +∞ so it is never its own neighbour.
            Tensor distances = squaredNorms.narrow(0, start, length).unsqueeze(1) + squaredNorms.unsqueeze(0) - 2 * queries.matmul(x.t());
            Tensor self = arange(start, start + length, dtype: ScalarType.Int64).unsqueeze(1);
            distances.scatter_(1, self, full(length, 1, float.PositiveInfinity));
            Tensor ids = distances.topk(k, dim: 1, largest: false, sorted: true).indexes.contiguous();
            ids.data<long>().CopyTo(neighbors.AsSpan(start * k, length * k));
        }
        var report = RetrievalEvaluator.Evaluate<long>(labelArray, neighbors, k, labelArray, relevant, []);
        return new ValidationMetrics(report.PrecisionAt1, report.MeanAveragePrecisionAtR, report.RPrecision);
    }
}
