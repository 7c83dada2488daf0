using System.Globalization;
using System.Text.Json;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Heads;
using DeepRetrieval.Torch.Pooling;
using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Models;

/// <summary>
/// A complete image-to-embedding network: images in [0, 1] are normalised with the model's mean and standard deviation,
/// run through a <see cref="Backbone"/> (built by name from <see cref="BackboneRegistry"/>), pooled (GeM, MAC, SPoC or R-MAC),
/// passed through an optional head (<c>linear</c>, <c>linear_bn</c>, <c>bnneck</c>) and optionally L2-normalised. Submodules
/// are <c>backbone</c>, <c>pool</c>, <c>projection</c> (heads other than none) and <c>neck</c> (<c>linear_bn</c>, <c>bnneck</c>),
/// so pretrained backbone weights load with <see cref="StateDict.Load"/> and a <see cref="KeyMapping"/> that adds the
/// <c>backbone.</c> prefix, or directly into <see cref="Backbone"/>. <see cref="Save"/> writes one safetensors file with the
/// configuration in its metadata, and <see cref="Load"/> restores the model with one call.
/// </summary>
public sealed class RetrievalModel : nn.Module<Tensor, Tensor>
{
    /// <summary>The value of the <c>format</c> metadata entry of a saved model.</summary>
    public const string FormatName = "deepretrieval.retrieval_model";

    /// <summary>The newest format version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    private readonly Backbone backbone;
    private readonly nn.Module<Tensor, Tensor> pool;
    private readonly LinearProjection? projection;
    private readonly nn.Module<Tensor, Tensor>? neck;

    /// <summary>Builds the model with freshly initialised weights (load pretrained backbone weights afterwards).</summary>
    /// <param name="config">The configuration; see <see cref="RetrievalModelConfig.For"/>.</param>
    /// <param name="seed">Seed of the weight initialisation; null keeps torch's global generator.</param>
    /// <exception cref="ArgumentException">The configuration is invalid (see <see cref="RetrievalModelConfig.Validate"/>).</exception>
    public RetrievalModel(RetrievalModelConfig config, long? seed = null) : base(nameof(RetrievalModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        backbone = BackboneRegistry.Create(config.BackboneName, new BackboneOptions { InputChannels = config.InputChannels, Seed = seed });
        int channels = backbone.OutputChannels;
        pool = config.Pooling switch
        {
            "gem" => new GeM(config.GemP, config.GemLearnable),
            "mac" => new MAC(),
            "spoc" => new SPoC(),
            _ => new RMAC(),
        };
        register_module("backbone", backbone);
        register_module("pool", pool);
        if (config.Head != "none")
        {
            projection = new LinearProjection(channels, config.EmbeddingDimension);
            register_module("projection", projection);
        }
        if (config.Head == "linear_bn")
            neck = nn.BatchNorm1d(config.EmbeddingDimension);
        else if (config.Head == "bnneck")
            neck = new BNNeck(config.EmbeddingDimension);
        if (neck is not null)
            register_module("neck", neck);
        // Not persistent: the configuration already stores them, and they must follow .to(device).
        register_buffer("mean", tensor(config.Mean.ToArray()).reshape(1, -1, 1, 1).DetachFromDisposeScope(), persistent: false);
        register_buffer("std", tensor(config.Std.ToArray()).reshape(1, -1, 1, 1).DetachFromDisposeScope(), persistent: false);
    }

    /// <summary>The configuration the model was built from.</summary>
    public RetrievalModelConfig Config { get; }

    /// <summary>The backbone (load ImageNet weights into it, freeze its stages, ...).</summary>
    public Backbone Backbone => backbone;

    /// <summary>The pooling layer.</summary>
    public nn.Module<Tensor, Tensor> Pool => pool;

    /// <summary>Width of the embeddings.</summary>
    public int EmbeddingDimension => Config.EmbeddingDimension;

    /// <summary>Embeds images: normalise, backbone, pool, head, and L2 normalisation when configured.</summary>
    /// <param name="images">N × C × H × W floating-point images with values in [0, 1].</param>
    /// <returns>N × <see cref="EmbeddingDimension"/> embeddings.</returns>
    /// <exception cref="ArgumentException">The images are not 4-D floating point, have the wrong channel count, or contain NaN.</exception>
    public override Tensor forward(Tensor images)
    {
        var (_, after) = ForwardBoth(images);
        return Config.Normalize ? nn.functional.normalize(after, p: 2, dim: 1) : after;
    }

    /// <summary>
    /// Both training features of a BNNeck model (Luo et al.): <c>BeforeBatchNorm</c>, the projected feature for the metric
    /// (triplet/pair) loss, and <c>AfterBatchNorm</c>, the feature after the neck for the ID (softmax-family) loss. Neither is
    /// L2-normalised. For heads without batch norm both are the same head output.
    /// </summary>
    /// <param name="images">N × C × H × W floating-point images with values in [0, 1].</param>
    /// <exception cref="ArgumentException">The images are not 4-D floating point, have the wrong channel count, or contain NaN.</exception>
    public (Tensor BeforeBatchNorm, Tensor AfterBatchNorm) ForwardBoth(Tensor images)
    {
        CheckImages(images);
        // Looked up rather than kept in fields, so the tensors moved by .to(device) are the ones used.
        Tensor normalised = (images - get_buffer("mean")!.to(images.dtype)) / get_buffer("std")!.to(images.dtype);
        Tensor pooled = pool.forward(backbone.forward(normalised));
        Tensor before = projection is null ? pooled : projection.forward(pooled);
        Tensor after = neck is null ? before : neck.forward(before);
        return (before, after);
    }

    /// <summary>
    /// Saves the configuration and every parameter and persistent buffer to one safetensors file (format version
    /// <see cref="FormatVersion"/>); atomic, so an interrupted save never leaves a broken file under <paramref name="path"/>.
    /// </summary>
    /// <param name="path">The file to create or replace, conventionally <c>*.safetensors</c>.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["config"] = RetrievalModelConfigJson.Write(Config),
        };
        using var scope = NewDisposeScope();
        SafeTensors.Save(path, state_dict(), metadata);
    }

    /// <summary>Restores a model written by <see cref="Save"/>, in evaluation mode on the CPU.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">
    /// The file is not a saved retrieval model, was written by a newer format version, has an invalid configuration (unknown
    /// backbone, pooling or head, inconsistent widths), or a tensor is missing, unexpected or has the wrong shape; the message
    /// names the file and the problem.
    /// </exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static RetrievalModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var header = SafeTensors.ReadHeader(path);
        if (!header.Metadata.TryGetValue("format", out string? format) || format != FormatName)
            throw new InvalidDataException($"{path} is not a saved RetrievalModel (its metadata has no format '{FormatName}').");
        if (!header.Metadata.TryGetValue("format_version", out string? versionText)
            || !int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
            throw new InvalidDataException($"{path}: the format version '{versionText}' is missing or not a positive integer.");
        if (version > FormatVersion)
            throw new InvalidDataException($"{path} was written with format version {version}; this library reads versions up to {FormatVersion}. Update DeepRetrieval.Torch.");
        if (!header.Metadata.TryGetValue("config", out string? json))
            throw new InvalidDataException($"{path}: the metadata has no config.");

        RetrievalModel model;
        try
        {
            var config = RetrievalModelConfigJson.Read(json);
            model = new RetrievalModel(config);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException)
        {
            throw new InvalidDataException($"{path}: invalid model configuration: {e.Message}", e);
        }
        var tensors = SafeTensors.Load(path).Tensors;
        try
        {
            StateDict.Load(model, tensors, strict: true, source: path);
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
        model.eval();
        return model;
    }

    private void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"Images must be a floating-point N × C × H × W tensor; got {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[1] != Config.InputChannels)
            throw new ArgumentException($"This model takes {Config.InputChannels}-channel images; got {images.shape[1]} channels.", nameof(images));
        if (images.isnan().any().item<bool>())
            throw new ArgumentException("The images contain NaN.", nameof(images));
    }
}
