using System.Buffers.Binary;
using DeepRetrieval.OnnxRuntime;
using DeepRetrieval.Pooling;
using DeepRetrieval.Tool.Embedding;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Tool;

/// <summary>
/// Turns a <c>--model</c> value into an <see cref="IGalleryEmbedder"/>: the built-in ML.NET ResNet-18 (GeM over its last feature
/// map) or any ONNX image model file (ImageNet normalisation, GeM p = 3 over a feature-map output, L2-normalised), run by ONNX
/// Runtime; or, with TorchSharp and a libtorch found at run time (<see cref="LibTorch"/>), a retrieval-model file saved by
/// DeepRetrieval.Torch or a backbone name of its registry with pretrained, local (<c>--weights</c>) or explicitly random weights.
/// </summary>
internal static class ModelLoader
{
    /// <summary>The name of the built-in model (the default).</summary>
    public const string BuiltIn = "resnet18";

    /// <summary>The folder the tool's package ships ML.NET's ResNet-18 files in.</summary>
    public static string BuiltInDirectory => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    /// <summary>Loads the model a <c>--model</c> value names, with the output, pooling and weights chosen on the command line.</summary>
    /// <param name="choice">The model, and optionally the value to embed, the pooling of a feature map and a backbone's weights.</param>
    /// <param name="settings">Batch size, threads and preprocessing options.</param>
    /// <param name="loggers">Receive the model's description.</param>
    /// <returns>The embedder; its <see cref="IGalleryEmbedder.Spec"/> is the value to store in a gallery.</returns>
    /// <exception cref="ToolError">The value is not a model the tool runs; the message says why and what to do.</exception>
    public static IGalleryEmbedder Load(ModelChoice choice, EmbeddingSettings settings, ILoggerFactory loggers)
    {
        string? spec = choice.Model;
        bool builtIn = string.IsNullOrWhiteSpace(spec) || string.Equals(spec, BuiltIn, StringComparison.OrdinalIgnoreCase);
        // resnet18 with --weights is the TorchSharp backbone of that name; without, the built-in ONNX model.
        if (builtIn && choice.Weights is null)
        {
            if (choice.Output is not null)
                throw new ToolError($"--output applies to an ONNX file given with --model; the built-in {BuiltIn} embeds its last feature map.");
            return new OnnxGalleryEmbedder(LoadBuiltIn(ParsePooling(choice.Pooling) ?? new GemPooling(3f), settings, loggers), BuiltIn, settings, loggers);
        }
        spec ??= BuiltIn;
        string path = Path.GetFullPath(spec);
        if (Directory.Exists(path))
            throw new ToolError($"--model '{spec}' is a folder; give an .onnx or retrieval-model file, or a backbone name (or leave --model out for the built-in {BuiltIn}).");
        if (!File.Exists(path))
        {
            if (!LooksLikeName(spec))
                throw new ToolError($"Model file '{spec}' does not exist.");
            if (!TorchModels.IsBackbone(spec))
            {
                IReadOnlyList<string> closest = TorchModels.Closest(spec);
                throw new ToolError(
                    $"--model '{spec}' is neither a file nor a known backbone{(closest.Count > 0 ? $"; did you mean {string.Join(", ", closest)}?" : ".")} " +
                    $"Known backbones: {string.Join(", ", TorchModels.BackboneNames)} ({BuiltIn} without --weights is the built-in ONNX model).");
            }
            if (choice.Output is not null)
                throw new ToolError($"--output applies to an ONNX file given with --model; backbone '{spec}' is pooled with --pooling (default gem).");
            return TorchModels.LoadBackbone(spec, choice.Weights, choice.Pooling, settings, loggers);
        }
        if (choice.Weights is not null)
            throw new ToolError($"--weights applies to a backbone name given with --model (e.g. --model resnet50 --weights resnet50.safetensors); '{spec}' is a file that holds its own weights.");
        if (IsSafetensors(path))
        {
            if (choice.Output is not null || choice.Pooling is not null)
                throw new ToolError($"'{spec}' is a retrieval model whose pooling and head are saved with it; leave out --output and --pooling.");
            return TorchModels.LoadFile(path, path, settings, loggers);
        }
        if (Path.GetExtension(path).ToLowerInvariant() is ".pth" or ".pt" or ".bin" or ".ckpt")
            throw new ToolError($"'{spec}' looks like a PyTorch weights file, which holds no network: pass the backbone's name with --model and this file with --weights (e.g. --model resnet50 --weights {Path.GetFileName(path)}).");
        IFeatureMapPooling? pooling = ParsePooling(choice.Pooling);
        try
        {
            var options = new OnnxEmbedderOptions
            {
                BatchSize = settings.BatchSize, IntraOpThreads = settings.Threads, OutputName = choice.Output, Pooling = pooling,
                Logger = loggers.CreateLogger<OnnxEmbedder>(),
            };
            OnnxEmbedder embedder;
            try
            {
                embedder = new OnnxEmbedder(path, options);
            }
            catch (ArgumentException e) when (e.Message.Contains("leaves the input", StringComparison.Ordinal))
            {
                // A fully convolutional model: run it at 224 × 224, the size ImageNet backbones are trained at.
                embedder = new OnnxEmbedder(path, options with { InputHeight = 224, InputWidth = 224 });
            }
            return new OnnxGalleryEmbedder(embedder, path, settings, loggers);
        }
        catch (InvalidDataException e)
        {
            throw new ToolError($"'{spec}' is not an ONNX model the tool can load: {OneLine(e.Message)}");
        }
        catch (ArgumentException e)
        {
            throw new ToolError($"'{spec}' is not an image model the tool runs (one N × C × H × W float input, an N × D or N × C × H × W output): {OneLine(e.Message)}");
        }
        catch (IOException e)
        {
            throw new ToolError($"Cannot read model '{spec}': {OneLine(e.Message)}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ToolError($"Cannot read model '{spec}': {OneLine(e.Message)}");
        }
    }

    /// <summary>How a gallery's model is shown in messages: the built-in or backbone name, or the file's name.</summary>
    public static string DisplayName(string spec) => LooksLikeName(spec) ? spec : Path.GetFileName(spec);

    /// <summary>Text on one line (ONNX Runtime's messages may span several).</summary>
    public static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static IFeatureMapPooling? ParsePooling(string? pooling)
    {
        if (pooling is null)
            return null;
        try
        {
            return FeatureMapPoolings.Parse(pooling);
        }
        catch (ArgumentException e)
        {
            throw new ToolError($"--pooling '{pooling}': {OneLine(e.Message)}");
        }
    }

    private static OnnxEmbedder LoadBuiltIn(IFeatureMapPooling pooling, EmbeddingSettings settings, ILoggerFactory loggers)
    {
        string models = BuiltInDirectory;
        if (!File.Exists(MlNetResNet18.ModelPath(models)) || !File.Exists(MlNetResNet18.PreprocessModelPath(models)))
            throw new ToolError($"The built-in {BuiltIn} files are missing under '{models}'; reinstall the tool, or pass --model <file.onnx>.");
        try
        {
            return new OnnxEmbedder(MlNetResNet18.ModelPath(models),
                MlNetResNet18.Options(models, pooling) with
                {
                    BatchSize = settings.BatchSize, IntraOpThreads = settings.Threads, Logger = loggers.CreateLogger<OnnxEmbedder>(),
                });
        }
        catch (InvalidDataException e)
        {
            throw new ToolError($"The built-in {BuiltIn} files under '{models}' are damaged ({OneLine(e.Message)}); reinstall the tool.");
        }
    }

    /// <summary>The model options of the command line.</summary>
    /// <param name="Model">--model: null or the built-in name, an .onnx file, a retrieval-model file or a backbone name.</param>
    /// <param name="Output">--output: the ONNX graph value to embed (an output or an intermediate feature map); null for the first output.</param>
    /// <param name="Pooling">--pooling: for ONNX "GeM(p=3)", "MAC", "SPoC", "R-MAC"; for a backbone "gem", "mac", "spoc", "rmac"...; null for GeM p = 3.</param>
    /// <param name="Weights">--weights: a backbone's weights file, or "random"; null for its registered pretrained weights.</param>
    internal sealed record ModelChoice(string? Model, string? Output, string? Pooling, string? Weights = null);

    // "resnet50", "efficientnet_b0", "vit_small_patch16_224": no directory part and no extension.
    private static bool LooksLikeName(string spec) =>
        spec.IndexOfAny(['/', '\\']) < 0 && !Path.HasExtension(spec);

    // safetensors: an 8-byte little-endian header length, then a JSON object.
    private static bool IsSafetensors(string path)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            Span<byte> head = stackalloc byte[9];
            if (stream.ReadAtLeast(head, 9, throwOnEndOfStream: false) < 9)
                return false;
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(head);
            return head[8] == (byte)'{' && length > 1 && length < (ulong)stream.Length;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
