using System.Diagnostics;
using DeepRetrieval.Indexes;
using DeepRetrieval.Torch.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Extraction;

/// <summary>
/// Runs an embedding model (any module from N × C × H × W images to N × D embeddings, e.g. backbone, pooling and head in a
/// <c>Sequential</c>) over a source of images and collects the embeddings: in evaluation mode and without gradients, in
/// batches, with optional test-time augmentation (left-right flip, several scales) whose views are averaged, and final L2
/// normalisation. The model's training/evaluation state (of every submodule) is restored afterwards. Results go to arrays,
/// straight into an <see cref="IVectorIndex"/>, or to a <c>.npy</c> file; progress (images per second) is reported after every
/// batch and the run is logged.
/// </summary>
public sealed class FeatureExtractor
{
    private readonly ILogger _logger;

    /// <summary>Creates an extractor.</summary>
    /// <param name="model">The embedding model; it must return a 2-D N × D tensor.</param>
    /// <param name="options">Batch size, augmentation, normalisation and device; null for the defaults.</param>
    /// <param name="logger">Receives the start and the summary of each run; null for none.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public FeatureExtractor(nn.Module<Tensor, Tensor> model, FeatureExtractorOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Options = options ?? new FeatureExtractorOptions();
        Options.Validate();
        Model = model;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The embedding model.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>The settings in use.</summary>
    public FeatureExtractorOptions Options { get; }

    /// <summary>
    /// Whether embeddings are L2-normalised: <see cref="FeatureExtractorOptions.Normalize"/> when set, else the model's choice
    /// (an <see cref="IEmbeddingModel"/> exactly when its metric is cosine, any other module always).
    /// </summary>
    public bool Normalizes => Options.Normalize ?? (Model is not IEmbeddingModel model || model.Metric == Metric.Cosine);

    /// <summary>Number of forward passes per image: scales × (2 with a flip, else 1).</summary>
    public int ViewsPerImage => Options.Scales.Count * (Options.HorizontalFlip ? 2 : 1);

    /// <summary>
    /// Embeds one batch with the configured augmentation and normalisation, in evaluation mode without gradients (the model's
    /// modes are restored before returning). The batch is not split by <see cref="FeatureExtractorOptions.BatchSize"/>.
    /// </summary>
    /// <param name="images">N × C × H × W floating-point images.</param>
    /// <returns>A new N × D tensor on the model's device, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentException">The images are not a 4-D floating-point tensor or contain NaN or infinity.</exception>
    /// <exception cref="InvalidOperationException">The model does not return a 2-D N × D tensor.</exception>
    public Tensor Embed(Tensor images)
    {
        CheckImages(images, nameof(images));
        ModuleModes modes = ModuleModes.Capture(Model);
        try
        {
            Model.eval();
            using var noGrad = no_grad();
            return EmbedCore(images, ResolveDevice());
        }
        finally
        {
            modes.Restore();
        }
    }

    /// <summary>Embeds every image of a source, in source order; unreadable images are skipped and listed in the result.</summary>
    /// <param name="source">The images, e.g. an <see cref="ImageFileSet"/> or a <see cref="TensorImageSet"/>.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run between batches.</param>
    /// <exception cref="ArgumentException">A batch is not 4-D floating point or contains NaN or infinity.</exception>
    /// <exception cref="InvalidOperationException">The model does not return N × D embeddings, returns NaN, or changes dimension between batches.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public ExtractedFeatures Extract(IImageBatchSource source, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var ids = new List<long>((int)Math.Min(source.Count, int.MaxValue));
        List<long>? labels = [];
        var rows = new List<float[]>();
        var skipped = new List<SkippedImage>();
        var skipCounter = new SynchronousProgress<SkippedImage>(skipped.Add);
        int dimension = 0;
        var clock = Stopwatch.StartNew();
        _logger.LogInformation("Extracting features of {Count} images: batch size {BatchSize}, {Views} view(s) per image, normalize {Normalize}",
            source.Count, Options.BatchSize, ViewsPerImage, Normalizes);

        Device device = ResolveDevice();
        ModuleModes modes = ModuleModes.Capture(Model);
        try
        {
            Model.eval();
            using var noGrad = no_grad();
            foreach (ImageBatch batch in source.ReadBatches(Options.BatchSize, skipCounter, cancellationToken))
            {
                cancellationToken.ThrowIfCancellationRequested();
                // One scope per batch, so batch tensors and intermediate maps are freed as the run goes. The batch itself was
                // made by the source before this scope existed, so it is moved in rather than left in the caller's scope.
                using var scope = NewDisposeScope();
                batch.Images.MoveToOtherDisposeScope(scope);
                CheckImages(batch.Images, nameof(source));
                Tensor embeddings = EmbedCore(batch.Images, device).to(ScalarType.Float32, CPU).contiguous();
                if (!embeddings.isfinite().all().item<bool>())
                    throw new InvalidOperationException($"The model produced NaN or infinite embeddings for the batch of ids {batch.Ids[0]}..{batch.Ids[^1]}.");
                int batchDimension = (int)embeddings.shape[1];
                if (rows.Count > 0 && batchDimension != dimension)
                    throw new InvalidOperationException($"The model returned {batchDimension}-dimensional embeddings after {dimension}-dimensional ones; the image size probably changed and the model does not pool to a fixed size.");
                dimension = batchDimension;
                rows.Add(embeddings.data<float>().ToArray());
                ids.AddRange(batch.Ids);
                // Labels are kept only when every batch has them.
                if (batch.Labels is null) labels = null;
                else labels?.AddRange(batch.Labels);
                progress?.Report(Progress(ids.Count, skipped.Count, source.Count, clock.Elapsed));
            }
        }
        finally
        {
            modes.Restore();
        }

        clock.Stop();
        var final = Progress(ids.Count, skipped.Count, source.Count, clock.Elapsed);
        progress?.Report(final);
        _logger.LogInformation("Extracted {Processed} embeddings of dimension {Dimension} ({Skipped} images skipped) in {Elapsed:F2} s: {Rate:F1} images/s",
            final.Processed, dimension, final.Skipped, final.Elapsed.TotalSeconds, final.ImagesPerSecond);

        var vectors = new float[(long)ids.Count * dimension];
        long offset = 0;
        foreach (float[] row in rows)
        {
            row.CopyTo(vectors, offset);
            offset += row.Length;
        }
        return new ExtractedFeatures(ids.ToArray(), vectors, dimension, skipped, clock.Elapsed, labels?.ToArray());
    }

    /// <summary>Embeds every image of an N × C × H × W tensor (read through a <see cref="TensorImageSet"/>); row i gets id i.</summary>
    /// <param name="images">The images: floating point, used as given, or uint8 pixels, divided by 255.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run between batches.</param>
    /// <exception cref="ArgumentException">The images are not 4-D uint8 or floating point, or contain NaN or infinity.</exception>
    /// <exception cref="InvalidOperationException">The model does not return N × D embeddings.</exception>
    public ExtractedFeatures Extract(Tensor images, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var set = new TensorImageSet(images);
        return Extract(set, progress, cancellationToken);
    }

    /// <summary>
    /// Embeds every image of a source and puts the embeddings into an index under the images' ids, training the index on them
    /// first when it is not trained yet (see <see cref="ExtractedFeatures.AddTo"/>).
    /// </summary>
    /// <param name="source">The images.</param>
    /// <param name="index">The index; its dimension must equal the model's embedding dimension.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run between batches.</param>
    /// <returns>The embeddings that were added.</returns>
    /// <exception cref="ArgumentException">The dimensions differ, an id is already in the index, or a batch is invalid.</exception>
    /// <exception cref="InvalidOperationException">The model does not return N × D embeddings.</exception>
    public ExtractedFeatures ExtractToIndex(IImageBatchSource source, IVectorIndex index, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ExtractedFeatures features = Extract(source, progress, cancellationToken);
        features.AddTo(index);
        return features;
    }

    /// <summary>Embeds every image of a source and writes the embeddings to a float32 <c>.npy</c> file (row i has id <c>Ids[i]</c> of the result).</summary>
    /// <param name="source">The images.</param>
    /// <param name="path">Destination file; replaced if it exists.</param>
    /// <param name="progress">Told after every batch and at the end; null for none.</param>
    /// <param name="cancellationToken">Stops the run between batches.</param>
    /// <returns>The embeddings that were written, with their ids.</returns>
    /// <exception cref="ArgumentException">The path is empty or a batch is invalid.</exception>
    /// <exception cref="InvalidOperationException">The model does not return N × D embeddings.</exception>
    public ExtractedFeatures ExtractToNpy(IImageBatchSource source, string path, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ExtractedFeatures features = Extract(source, progress, cancellationToken);
        features.SaveNpy(path);
        return features;
    }

    private Device ResolveDevice() => Options.Device ?? Model.parameters().FirstOrDefault()?.device ?? CPU;

    private Tensor EmbedCore(Tensor images, Device device)
    {
        Tensor input = images.to(device);
        Tensor? sum = null;
        foreach (double scale in Options.Scales)
        {
            Tensor scaled = scale == 1.0
                ? input
                : nn.functional.interpolate(input, scale_factor: [scale, scale], mode: InterpolationMode.Bilinear, align_corners: false);
            sum = Accumulate(sum, scaled);
            if (Options.HorizontalFlip)
                sum = Accumulate(sum, scaled.flip(3));
        }
        Tensor mean = sum! / ViewsPerImage;
        return Normalizes ? nn.functional.normalize(mean, p: 2, dim: 1) : mean;
    }

    private Tensor Accumulate(Tensor? sum, Tensor view)
    {
        Tensor embedding = Model.call(view);
        if (embedding.dim() != 2 || embedding.shape[0] != view.shape[0])
            throw new InvalidOperationException(
                $"The model must return N × D embeddings for N images; for [{string.Join(", ", view.shape)}] it returned [{string.Join(", ", embedding.shape)}]. Add a pooling layer after a backbone.");
        if (Normalizes)
            embedding = nn.functional.normalize(embedding, p: 2, dim: 1);
        return sum is null ? embedding : sum + embedding;
    }

    private static ExtractionProgress Progress(long processed, long skipped, long total, TimeSpan elapsed) =>
        new(processed, skipped, total, elapsed, elapsed > TimeSpan.Zero ? processed / elapsed.TotalSeconds : 0);

    private static void CheckImages(Tensor images, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(images, parameterName);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"Images must be a floating-point N × C × H × W tensor; got {images.dtype} [{string.Join(", ", images.shape)}].", parameterName);
        using var scope = NewDisposeScope();
        if (!images.isfinite().all().item<bool>())
            throw new ArgumentException("Images contain NaN or infinite values.", parameterName);
    }
}
