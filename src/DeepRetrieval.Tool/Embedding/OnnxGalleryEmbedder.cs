using DeepRetrieval.Imaging.IO;
using DeepRetrieval.OnnxRuntime;
using DeepRetrieval.OnnxRuntime.Extraction;
using DeepRetrieval.Tool.Gallery;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Tool.Embedding;

/// <summary>An ONNX model (the built-in ResNet-18 or a file) run by ONNX Runtime through an <see cref="OnnxFeatureExtractor"/>.</summary>
internal sealed class OnnxGalleryEmbedder : IGalleryEmbedder
{
    private readonly OnnxEmbedder _embedder;
    private readonly OnnxFeatureExtractor _extractor;

    /// <summary>Wraps an embedder, which this object then owns.</summary>
    public OnnxGalleryEmbedder(OnnxEmbedder embedder, string spec, EmbeddingSettings settings, ILoggerFactory loggers)
    {
        _embedder = embedder;
        Spec = spec;
        var options = new OnnxExtractionOptions
        {
            HorizontalFlip = settings.Flip,
            DraftDecode = settings.DraftDecode,
            DecodeThreads = Math.Max(1, settings.Threads ?? Environment.ProcessorCount),
        };
        _extractor = new OnnxFeatureExtractor(embedder, options, loggers.CreateLogger<OnnxFeatureExtractor>());
        Preprocessing = new GalleryPreprocessing(options.Preparation, options.DraftDecode, options.HorizontalFlip, options.Description);
    }

    public string Spec { get; }

    public int Dimension => _embedder.Dimension;

    public string Fingerprint => _embedder.Fingerprint;

    public GalleryPreprocessing Preprocessing { get; }

    public IReadOnlyList<SkippedImage> Skipped => _extractor.Skipped;

    public ExtractionStageTimes? Times => _extractor.Times;

    public IAsyncEnumerable<EmbeddedImage> EmbedFilesAsync(IReadOnlyList<string> files, IProgress<ImageExtractionProgress>? progress, CancellationToken cancellationToken) =>
        _extractor.EmbedFilesAsync(files, progress, cancellationToken);

    public float[] EmbedFile(string path, CancellationToken cancellationToken) => _extractor.EmbedFile(path, cancellationToken);

    public void Dispose() => _embedder.Dispose();
}
