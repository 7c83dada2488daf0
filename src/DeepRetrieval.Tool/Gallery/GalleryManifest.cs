using System.Text.Json.Serialization;

namespace DeepRetrieval.Tool.Gallery;

/// <summary>
/// <c>gallery.json</c>: what a gallery holds and how it was made. It is written last and atomically, so it always names a
/// complete index file and vectors file; the files of older generations are deleted after it.
/// </summary>
internal sealed record GalleryManifest
{
    /// <summary>The format of this file.</summary>
    public const string CurrentFormat = "deepretrieval-gallery/1";

    /// <summary>Always <see cref="CurrentFormat"/>.</summary>
    public required string Format { get; init; }

    /// <summary>The indexed folder (full path); image paths are relative to it.</summary>
    public required string Root { get; init; }

    /// <summary>The model that made the vectors.</summary>
    public required GalleryModel Model { get; init; }

    /// <summary>How files became model inputs.</summary>
    public required GalleryPreprocessing Preprocessing { get; init; }

    /// <summary>The index's factory description, e.g. <c>HNSW32</c>; vectors are compared by inner product (they are L2-normalised).</summary>
    public required string Index { get; init; }

    /// <summary>Increases with every save; names the data files.</summary>
    public required long Generation { get; init; }

    /// <summary>The index file, relative to the gallery.</summary>
    public required string IndexFile { get; init; }

    /// <summary>The vectors (.npy, one row per entry of <see cref="Images"/>, same order), relative to the gallery.</summary>
    public required string VectorsFile { get; init; }

    /// <summary>The next id to give a new image.</summary>
    public required long NextId { get; init; }

    /// <summary>The indexed images, sorted by path.</summary>
    public required IReadOnlyList<GalleryImage> Images { get; init; }

    /// <summary>Files that could not be read by the last run (retried by the next).</summary>
    public IReadOnlyList<GallerySkip> Skipped { get; init; } = [];

    /// <summary>When this generation was written (UTC).</summary>
    public DateTime Updated { get; init; }
}

/// <summary>The model of a gallery.</summary>
/// <param name="Spec">The built-in name, a backbone name, or the full path of the ONNX or retrieval-model file.</param>
/// <param name="Output">The embedded graph value chosen with --output, or null.</param>
/// <param name="Pooling">The pooling chosen with --pooling, or null.</param>
/// <param name="Fingerprint">The embedder's fingerprint (ONNX: model bytes, input, output, normalisation, pooling, whitening, L2; TorchSharp: configuration and every weight).</param>
/// <param name="Dimension">Embedding length.</param>
/// <param name="Weights">A backbone's --weights: the file's full path, or "random"; null for its registered pretrained weights (and for files).</param>
internal sealed record GalleryModel(string Spec, string? Output, string? Pooling, string Fingerprint, int Dimension, string? Weights = null);

/// <summary>How files became model inputs (the extraction options that change embeddings).</summary>
/// <param name="Preparation">CenterCrop, Stretch or Letterbox.</param>
/// <param name="DraftDecode">JPEGs decoded at reduced scale.</param>
/// <param name="HorizontalFlip">Flip TTA.</param>
/// <param name="Description">All of it as one line (compared between runs).</param>
internal sealed record GalleryPreprocessing(
    [property: JsonConverter(typeof(JsonStringEnumConverter))] DeepRetrieval.OnnxRuntime.Extraction.ImagePreparation Preparation,
    bool DraftDecode, bool HorizontalFlip, string Description);

/// <summary>One indexed image.</summary>
/// <param name="Id">Its id in the index.</param>
/// <param name="Path">Relative to the root, '/'-separated.</param>
/// <param name="Size">File size in bytes when indexed.</param>
/// <param name="Modified">Last write time (UTC ticks) when indexed.</param>
/// <param name="Sha256">SHA-256 of the file's bytes, lowercase hexadecimal.</param>
internal sealed record GalleryImage(long Id, string Path, long Size, long Modified, string Sha256);

/// <summary>A file the last run could not read.</summary>
/// <param name="Path">Relative to the root.</param>
/// <param name="Reason">Why.</param>
internal sealed record GallerySkip(string Path, string Reason);
