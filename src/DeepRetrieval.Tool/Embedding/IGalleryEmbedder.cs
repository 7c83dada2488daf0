using DeepRetrieval.Imaging.IO;
using DeepRetrieval.OnnxRuntime.Extraction;
using DeepRetrieval.Tool.Gallery;

namespace DeepRetrieval.Tool.Embedding;

/// <summary>
/// What the commands need from a model, whatever runs it (ONNX Runtime or TorchSharp): embed files in order with progress,
/// skipped-file reports and cancellation; say what it is (fingerprint, dimension, preprocessing) so galleries can refuse another.
/// </summary>
internal interface IGalleryEmbedder : IDisposable
{
    /// <summary>The value a gallery stores to load the model again: the built-in name, a backbone name or a file's full path.</summary>
    string Spec { get; }

    /// <summary>Embedding length.</summary>
    int Dimension { get; }

    /// <summary>Changes whenever the embeddings would (weights, architecture, pooling, normalisation).</summary>
    string Fingerprint { get; }

    /// <summary>How files become model inputs (compared between runs on a gallery).</summary>
    GalleryPreprocessing Preprocessing { get; }

    /// <summary>Files the last run could not read, in input order.</summary>
    IReadOnlyList<SkippedImage> Skipped { get; }

    /// <summary>Where the last run spent its time, when the engine measures it by stage; null otherwise.</summary>
    ExtractionStageTimes? Times { get; }

    /// <summary>Embeds files in input order as they are done, skipping (and listing in <see cref="Skipped"/>) unreadable ones.</summary>
    IAsyncEnumerable<EmbeddedImage> EmbedFilesAsync(IReadOnlyList<string> files, IProgress<ImageExtractionProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Embeds one file.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable image.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    float[] EmbedFile(string path, CancellationToken cancellationToken);
}

/// <summary>How a command wants images embedded (the settings that are not the model).</summary>
/// <param name="BatchSize">Images per model run.</param>
/// <param name="Threads">Threads for decoding and the model; null for all cores.</param>
/// <param name="Flip">Also embed each image mirrored and average.</param>
/// <param name="DraftDecode">Decode large JPEGs at reduced scale.</param>
internal sealed record EmbeddingSettings(int BatchSize, int? Threads, bool Flip, bool DraftDecode);
