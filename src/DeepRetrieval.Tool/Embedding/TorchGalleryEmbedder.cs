using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using DeepRetrieval.Imaging;
using DeepRetrieval.OnnxRuntime.Extraction;
using DeepRetrieval.Tool.Console;
using DeepRetrieval.Tool.Gallery;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using DeepRetrieval.Torch.Models;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;
using ImagingSkippedImage = DeepRetrieval.Imaging.IO.SkippedImage;

namespace DeepRetrieval.Tool.Embedding;

/// <summary>
/// A <see cref="RetrievalModel"/> (loaded from a file, or built from a backbone name and its weights) run by TorchSharp through
/// DeepRetrieval.Torch's <see cref="FeatureExtractor"/>: files are read by an <see cref="ImageFileSet"/> (decoding threads,
/// batches prefetched), each batch embedded and yielded as soon as it is done (so progress and checkpoints come as the run
/// goes), resized as the backbone was trained (shorter side to input / 0.875, centre
/// crop; the model normalises), embedded and L2-normalised (galleries compare by cosine similarity).
/// </summary>
internal sealed class TorchGalleryEmbedder : IGalleryEmbedder
{
    private const string FingerprintFormat = "deepretrieval-torch-embedder/1";

    private readonly RetrievalModel _model;
    private readonly FeatureExtractor _extractor;
    private readonly ImageFileSetOptions _setOptions;
    private readonly ILogger _logger;
    private readonly int _batchSize;
    private List<ImagingSkippedImage> _skipped = [];

    /// <summary>Wraps a model, which this object then owns.</summary>
    /// <exception cref="ToolError">The model takes images of neither one nor three channels.</exception>
    public TorchGalleryEmbedder(RetrievalModel model, string spec, EmbeddingSettings settings, ILoggerFactory loggers)
    {
        _model = model;
        Spec = spec;
        RetrievalModelConfig config = model.Config;
        if (config.InputChannels is not (1 or 3))
            throw new ToolError($"Model '{spec}' takes {config.InputChannels}-channel images; the tool reads photos as RGB (3) or grey (1).");
        int resize = (int)Math.Round(config.InputSize / 0.875);
        var preprocessing = new ImagePreprocessing
        {
            ResizeMode = ImageResizeMode.ShorterSide,
            Size = resize,
            CenterCropSize = config.InputSize,
            Grayscale = config.InputChannels == 1,
            Decode = ImageDecodeOptions.Default with { DraftSize = settings.DraftDecode ? new ImageSize(2 * resize, 2 * resize) : null },
        };
        _setOptions = new ImageFileSetOptions { Preprocessing = preprocessing, DecodeThreads = Math.Max(1, settings.Threads ?? Environment.ProcessorCount) };
        _logger = loggers.CreateLogger<TorchGalleryEmbedder>();
        _extractor = new FeatureExtractor(model, new FeatureExtractorOptions { BatchSize = settings.BatchSize, HorizontalFlip = settings.Flip, Normalize = true },
            loggers.CreateLogger<FeatureExtractor>());
        _batchSize = settings.BatchSize;
        if (settings.Threads is int threads)
            set_num_threads(threads);
        string description = string.Create(CultureInfo.InvariantCulture,
            $"ShorterSide({resize}) CenterCrop({config.InputSize}) {preprocessing.Filter}{(preprocessing.Grayscale ? " grey" : "")} draft={(settings.DraftDecode ? "on" : "off")} flip={(settings.Flip ? "on" : "off")} scales=[1]");
        Preprocessing = new GalleryPreprocessing(ImagePreparation.CenterCrop, settings.DraftDecode, settings.Flip, description);
        Fingerprint = ComputeFingerprint(model);
        _logger.LogInformation("Loaded TorchSharp model {Spec}: {Backbone}, pooling {Pooling}, head {Head}, input {Channels}×{Size}², dimension {Dimension}, fingerprint {Fingerprint}",
            spec, config.BackboneName, config.Pooling, config.Head, config.InputChannels, config.InputSize, Dimension, Fingerprint);
    }

    public string Spec { get; }

    public int Dimension => _model.EmbeddingDimension;

    public string Fingerprint { get; }

    public GalleryPreprocessing Preprocessing { get; }

    public IReadOnlyList<ImagingSkippedImage> Skipped => _skipped;

    public ExtractionStageTimes? Times => null;

    public async IAsyncEnumerable<EmbeddedImage> EmbedFilesAsync(IReadOnlyList<string> files, IProgress<ImageExtractionProgress>? progress,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _skipped = [];
        if (files.Count == 0)
            yield break;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var skips = new ConcurrentQueue<SkippedImage>();
        ImageFileSet set = ImageFileSet.FromFiles(files, _setOptions, _logger);
        // The set decodes on its own threads, batches ahead; each batch is embedded on the thread pool by the extractor (eval
        // mode, no gradients, flip TTA, L2), and yielded at once, so the caller saves as the run goes and Ctrl+C loses nothing done.
        using IEnumerator<ImageBatch> batches = set.ReadBatches(_batchSize, new SynchronousProgress<SkippedImage>(skips.Enqueue), cancellationToken).GetEnumerator();
        void DrainSkips()
        {
            while (skips.TryDequeue(out SkippedImage? skip))
                _skipped.Add(new ImagingSkippedImage((int)skip.Id, skip.Path, skip.Reason, new InvalidDataException(skip.Reason)));
        }
        long processed = 0;
        while (await Task.Run(() => EmbedNext(batches), cancellationToken).ConfigureAwait(false) is (long[] ids, float[] rows))
        {
            DrainSkips();
            processed += ids.Length;
            progress?.Report(new ImageExtractionProgress(processed, _skipped.Count, files.Count, clock.Elapsed, files[(int)ids[^1]]));
            for (int row = 0; row < ids.Length; row++)
                yield return new EmbeddedImage((int)ids[row], files[(int)ids[row]], rows.AsSpan(row * Dimension, Dimension).ToArray());
        }
        DrainSkips();
        _skipped.Sort((a, b) => a.Index.CompareTo(b.Index));
        progress?.Report(new ImageExtractionProgress(processed, _skipped.Count, files.Count, clock.Elapsed, null));
        _logger.LogInformation("Embedded {Processed} images ({Skipped} skipped) in {Elapsed:F1} s", processed, _skipped.Count, clock.Elapsed.TotalSeconds);
    }

    public float[] EmbedFile(string path, CancellationToken cancellationToken)
    {
        // The whole-set path of the extractor, for one file: what an application calling FeatureExtractor.Extract gets.
        ImageFileSet set = ImageFileSet.FromFiles([path], _setOptions);
        ExtractedFeatures features = _extractor.Extract(set, null, cancellationToken);
        if (features.Count == 0)
            throw new InvalidDataException(features.Skipped.Count > 0 ? features.Skipped[0].Reason : $"'{path}' could not be read.");
        return features.GetVector(0).ToArray();
    }

    public void Dispose() => _model.Dispose();

    // The next batch's ids and embeddings (rows of Dimension floats), or null at the end.
    private (long[] Ids, float[] Rows)? EmbedNext(IEnumerator<ImageBatch> batches)
    {
        if (!batches.MoveNext())
            return null;
        using var scope = NewDisposeScope();
        ImageBatch batch = batches.Current;
        batch.Images.MoveToOtherDisposeScope(scope);
        Tensor embeddings = _extractor.Embed(batch.Images).to(ScalarType.Float32, CPU).contiguous();
        return (batch.Ids, embeddings.data<float>().ToArray());
    }

    // The configuration, every parameter and persistent buffer (names, types, shapes, bytes) and the normalisation: a model saved
    // to a file and the same backbone built from the same weights get the same fingerprint.
    private static string ComputeFingerprint(RetrievalModel model)
    {
        RetrievalModelConfig c = model.Config;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        Text(FingerprintFormat);
        Text(string.Create(CultureInfo.InvariantCulture,
            $"backbone={c.BackboneName} channels={c.InputChannels} pooling={c.Pooling} head={c.Head} dimension={c.EmbeddingDimension} metric={c.Metric} size={c.InputSize} mean=[{string.Join(";", c.Mean.Select(m => m.ToString("R", CultureInfo.InvariantCulture)))}] std=[{string.Join(";", c.Std.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))}] l2=true"));
        using var scope = NewDisposeScope();
        foreach ((string name, Tensor tensor) in model.state_dict())
        {
            Text($"{name} {tensor.dtype} [{string.Join(",", tensor.shape)}]");
            hash.AppendData(tensor.cpu().contiguous().bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
