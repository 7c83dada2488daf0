using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Models;
using DeepRetrieval.Torch.Weights;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Tool.Embedding;

/// <summary>
/// The TorchSharp models of <c>--model</c>: a retrieval-model file saved by DeepRetrieval.Torch, or a backbone name of the Torch
/// <see cref="BackboneRegistry"/> (timm's names) with GeM pooling, as timm's <c>create_model(name, pretrained=True)</c>: its
/// registered pretrained weights (from the cache, downloaded once), a local file given with <c>--weights</c>, or, only when asked
/// with <c>--weights random</c>, random initialisation (seeded, so a gallery's searches reproduce it).
/// </summary>
internal static class TorchModels
{
    /// <summary>The <c>--weights</c> value that asks for a randomly initialised backbone.</summary>
    public const string RandomWeights = "random";

    /// <summary>The seed of <see cref="RandomWeights"/> (fixed: search must rebuild the same network).</summary>
    public const long RandomSeed = 0;

    /// <summary>Every backbone name <c>--model</c> accepts.</summary>
    public static IReadOnlyList<string> BackboneNames => BackboneRegistry.Names;

    /// <summary>Whether <paramref name="name"/> is a registered backbone.</summary>
    public static bool IsBackbone(string name) => BackboneRegistry.Contains(name);

    /// <summary>Loads a retrieval model saved by <c>RetrievalModel.Save</c>.</summary>
    /// <exception cref="ToolError">libtorch is missing, or the file is not a retrieval model the tool can load.</exception>
    public static IGalleryEmbedder LoadFile(string path, string spec, EmbeddingSettings settings, ILoggerFactory loggers)
    {
        LibTorch.EnsureLoaded();
        RetrievalModel model;
        try
        {
            model = RetrievalModel.Load(path);
        }
        catch (InvalidDataException e) when (e.Message.Contains($"no format '{RetrievalModel.FormatName}'", StringComparison.Ordinal))
        {
            throw new ToolError($"'{spec}' is a safetensors file but not a DeepRetrieval retrieval model; if it holds a backbone's weights, pass the backbone's name with --model and this file with --weights.");
        }
        catch (InvalidDataException e)
        {
            throw new ToolError($"'{spec}' is not a retrieval model the tool can load: {ModelLoader.OneLine(e.Message)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToolError($"Cannot read model '{spec}': {ModelLoader.OneLine(e.Message)}");
        }
        return Wrap(model, path, settings, loggers);
    }

    /// <summary>Builds a backbone by name with GeM pooling (or <paramref name="pooling"/>) and its weights.</summary>
    /// <param name="name">A registered backbone name.</param>
    /// <param name="weights">Null for the registered pretrained weights, a weights file (safetensors or PyTorch .pth), or <see cref="RandomWeights"/>.</param>
    /// <param name="pooling">A DeepRetrieval.Torch pooling specification, or null for GeM p = 3.</param>
    /// <param name="settings">How images are embedded.</param>
    /// <param name="loggers">Receives the model's description.</param>
    /// <returns>The embedder; its <see cref="IGalleryEmbedder.Spec"/> is the registered name.</returns>
    /// <exception cref="ToolError">libtorch is missing, the weights cannot be had, or they do not fit the backbone.</exception>
    public static IGalleryEmbedder LoadBackbone(string name, string? weights, string? pooling, EmbeddingSettings settings, ILoggerFactory loggers)
    {
        BackboneInfo info = BackboneRegistry.Describe(name);
        bool random = string.Equals(weights, RandomWeights, StringComparison.OrdinalIgnoreCase);
        string? file = random || weights is null ? null : Path.GetFullPath(weights);
        if (file is not null && !File.Exists(file))
            throw new ToolError(Directory.Exists(file) ? $"--weights '{weights}' is a folder; give a .safetensors or .pth file." : $"Weights file '{weights}' does not exist.");
        if (weights is null && info.Pretrained is null)
            throw new ToolError(
                $"Backbone '{info.Name}' has no registered pretrained weights: pass a weights file with --weights <file.safetensors|.pth>, " +
                $"or --weights {RandomWeights} for a randomly initialised network (useful only to try the pipeline).");
        LibTorch.EnsureLoaded();
        RetrievalModelConfig config = RetrievalModelConfig.For(info.Name);
        if (pooling is not null)
            config = config with { Pooling = pooling };
        RetrievalModel model;
        try
        {
            model = new RetrievalModel(config, seed: random ? RandomSeed : null, pretrainedBackbone: !random, weights: new PretrainedOptions { FilePath = file });
        }
        catch (ArgumentException e) when (pooling is not null && e.ParamName == nameof(RetrievalModelConfig.Pooling))
        {
            throw new ToolError($"--pooling '{pooling}': {ModelLoader.OneLine(e.Message)}");
        }
        catch (HttpRequestException e)
        {
            throw new ToolError($"The pretrained weights of '{info.Name}' could not be downloaded: {WithWeightsOption(e.Message)}");
        }
        catch (IOException e)
        {
            throw new ToolError($"The pretrained weights of '{info.Name}' could not be read or downloaded: {WithWeightsOption(e.Message)}");
        }
        catch (InvalidDataException e)
        {
            throw new ToolError($"The weights {(file is null ? "downloaded" : $"in '{weights}'")} do not fit backbone '{info.Name}': {ModelLoader.OneLine(e.Message)}");
        }
        return Wrap(model, info.Name, settings, loggers);
    }

    /// <summary>The registered names closest to a misspelt one (edit distance), at most <paramref name="count"/>.</summary>
    public static IReadOnlyList<string> Closest(string name, int count = 5)
    {
        string wanted = name.ToLowerInvariant();
        return [.. BackboneNames
            .Select(n => (Name: n, Distance: EditDistance(wanted, n.ToLowerInvariant())))
            .Where(p => p.Distance <= Math.Max(2, wanted.Length / 3) || p.Name.StartsWith(wanted, StringComparison.OrdinalIgnoreCase))
            .OrderBy(p => p.Distance).ThenBy(p => p.Name, StringComparer.Ordinal)
            .Take(count)
            .Select(p => p.Name)];
    }

    // The library's advice names its API (PretrainedOptions.FilePath); the tool's user passes --weights.
    private static string WithWeightsOption(string message)
    {
        string line = ModelLoader.OneLine(message);
        const string api = "in PretrainedOptions.FilePath";
        return line.Contains(api, StringComparison.Ordinal)
            ? line.Replace(api, "with --weights <file.safetensors|.pth>", StringComparison.Ordinal)
            : $"{line} Or pass a local file with --weights <file.safetensors|.pth>.";
    }

    private static IGalleryEmbedder Wrap(RetrievalModel model, string spec, EmbeddingSettings settings, ILoggerFactory loggers)
    {
        try
        {
            return new TorchGalleryEmbedder(model, spec, settings, loggers);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
