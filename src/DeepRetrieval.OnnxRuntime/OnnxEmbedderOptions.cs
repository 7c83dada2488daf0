using DeepRetrieval.OnnxRuntime.Preprocessing;
using DeepRetrieval.Pooling;
using DeepRetrieval.Transforms;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace DeepRetrieval.OnnxRuntime;

/// <summary>
/// How an <see cref="OnnxEmbedder"/> runs a model and turns its output into embeddings. The defaults embed with ImageNet
/// normalisation, the model's first output, GeM (p = 3) when that output is a feature map, and L2 normalisation, on the CPU.
/// </summary>
public sealed record OnnxEmbedderOptions
{
    /// <summary>
    /// How pixels become the model's input (<see cref="InputNormalization.ImageNet"/> by default). Float batches given to
    /// <see cref="OnnxEmbedder.Embed(ReadOnlySpan{float}, int, Span{float}, CancellationToken)"/> must already be normalised this
    /// way; it is part of the fingerprint. Its channel count must match the model's input.
    /// </summary>
    public InputNormalization Normalization { get; init; } = InputNormalization.ImageNet;

    /// <summary>
    /// The value to embed: a graph output, or any intermediate value a node produces (see <c>OnnxModelGraph</c>), e.g. the feature
    /// map before the network's own average pool. Null for the model's first output.
    /// </summary>
    public string? OutputName { get; init; }

    /// <summary>
    /// Pools an N × C × H × W output into N × C; null means GeM with p = 3 for such outputs, and no pooling for N × C × 1 × 1 ones
    /// (already a vector per image). Must be null when the output is N × D.
    /// </summary>
    public IFeatureMapPooling? Pooling { get; init; }

    /// <summary>
    /// A trained PCA (usually with whitening) applied to each descriptor after L2-normalising it, as cirtorch applies its learned
    /// whitening; null for none. Its input dimension must equal the descriptor length.
    /// </summary>
    public PcaTransform? Whitening { get; init; }

    /// <summary>L2-normalise the final embeddings (after pooling and whitening). Default true.</summary>
    public bool L2Normalize { get; init; } = true;

    /// <summary>
    /// Images per inference run for models with a dynamic batch dimension (default 16). Models with a fixed batch dimension run
    /// that many images at a time, and the last run is padded.
    /// </summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// Input height for models whose height is dynamic; must equal the model's when it is fixed. Null takes the model's.
    /// </summary>
    public int? InputHeight { get; init; }

    /// <summary>Input width for models whose width is dynamic; must equal the model's when it is fixed. Null takes the model's.</summary>
    public int? InputWidth { get; init; }

    /// <summary>Threads one inference uses (ONNX Runtime's intra-op pool); null for ONNX Runtime's default (one per physical core).</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>Graph optimisations ONNX Runtime applies when loading; null for all (<see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>).</summary>
    public GraphOptimizationLevel? GraphOptimizationLevel { get; init; }

    /// <summary>Keep ONNX Runtime's CPU memory arena (default) so buffers are reused between runs; false returns them each run.</summary>
    public bool? EnableMemoryArena { get; init; }

    /// <summary>
    /// Let ONNX Runtime's intra-op threads spin-wait between operators (its own default) instead of sleeping; null or false turns
    /// spinning off. Embedding usually shares the cores with image decoding and other work, which spinning threads starve: on a
    /// busy two-core machine, two threads embedded ResNet-18 1.1–2× faster without spinning (docs/benchmarks.md). Set true on
    /// cores reserved for inference. No effect with one thread.
    /// </summary>
    public bool? AllowSpinning { get; init; }

    /// <summary>
    /// Called on the session options the embedder creates, after its own settings, so the app can add execution providers
    /// (<c>o.AppendExecutionProvider_CUDA(0)</c>, <c>o.AppendExecutionProvider("OpenVINO")</c>) or session config entries.
    /// </summary>
    public Action<SessionOptions>? ConfigureSession { get; init; }

    /// <summary>
    /// Session options the app owns and configures completely; the embedder uses them as they are and does not dispose them.
    /// Cannot be combined with <see cref="IntraOpThreads"/>, <see cref="GraphOptimizationLevel"/>, <see cref="EnableMemoryArena"/>,
    /// <see cref="AllowSpinning"/> or <see cref="ConfigureSession"/>.
    /// </summary>
    public SessionOptions? SessionOptions { get; init; }

    /// <summary>Receives a line about the loaded model (inputs, output, pooling, fingerprint); null for none.</summary>
    public ILogger? Logger { get; init; }
}
