using System.Globalization;
using System.Text.Json;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Data;
using DeepRetrieval.Torch.Extraction;
using DeepRetrieval.Torch.Heads;
using DeepRetrieval.Torch.Pooling;
using DeepRetrieval.Torch.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Models;

/// <summary>
/// A complete image-to-embedding network: images in [0, 1] are normalised with the model's mean and standard deviation,
/// run through a <see cref="Backbone"/> (<see cref="BackboneRegistry"/>), pooled (<see cref="PoolingRegistry"/>: GeM, MAC,
/// SPoC, R-MAC, bilinear, compact bilinear), passed through a head (<see cref="HeadRegistry"/>: none, linear, linear_bn,
/// bnneck, PCA whitening) and L2-normalised when the configuration's <see cref="RetrievalModelConfig.Metric"/> is cosine.
/// Submodules are <c>backbone</c>, <c>pool</c> and <c>head</c>, so pretrained backbone weights load into
/// <see cref="Backbone"/> (or with one call, <c>pretrainedBackbone: true</c>). <see cref="ForwardBoth"/> gives the two training
/// features of a BNNeck head, which <see cref="Training.EmbeddingTrainer"/> routes to metric and classification losses.
/// <see cref="Save"/> writes one safetensors file with the configuration in its metadata, and <see cref="Load"/> restores the
/// model with one call.
/// </summary>
public sealed class RetrievalModel : nn.Module<Tensor, Tensor>, IEmbeddingModel
{
    /// <summary>The value of the <c>format</c> metadata entry of a saved model.</summary>
    public const string FormatName = "deepretrieval.retrieval_model";

    /// <summary>The newest format version this library writes and reads (version 1 files are read too).</summary>
    public const int FormatVersion = 2;

    private readonly Backbone backbone;
    private readonly nn.Module<Tensor, Tensor> pool;
    private readonly nn.Module<Tensor, Tensor> head;

    /// <summary>Builds the model, with freshly initialised weights or the backbone's pretrained ones.</summary>
    /// <param name="config">The configuration; see <see cref="RetrievalModelConfig.For"/>.</param>
    /// <param name="seed">Seed of the weight initialisation; null keeps torch's global generator.</param>
    /// <param name="pretrainedBackbone">Load the backbone's registered pretrained weights (<c>BackboneRegistry.Create(name, pretrained: true)</c>).</param>
    /// <param name="weights">Where the pretrained weights are cached or which file to use; null for the defaults.</param>
    /// <exception cref="ArgumentException">The configuration is invalid (see <see cref="RetrievalModelConfig.Validate"/>), or the backbone has no pretrained weights.</exception>
    /// <exception cref="HttpRequestException">The pretrained weights are neither cached nor downloadable.</exception>
    /// <exception cref="InvalidDataException">The pretrained weights do not fit the backbone.</exception>
    public RetrievalModel(RetrievalModelConfig config, long? seed = null, bool pretrainedBackbone = false, PretrainedOptions? weights = null)
        : base(nameof(RetrievalModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        backbone = BackboneRegistry.Create(config.BackboneName, pretrainedBackbone, new BackboneOptions { InputChannels = config.InputChannels, Seed = seed }, weights);
        int channels = backbone.OutputChannels;
        pool = PoolingRegistry.Create(config.Pooling, channels);
        head = HeadRegistry.Create(config.Head, PoolingRegistry.OutputDimension(config.Pooling, channels), config.EmbeddingDimension);
        register_module("backbone", backbone);
        register_module("pool", pool);
        register_module("head", head);
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

    /// <summary>The head (an <see cref="EmbeddingHead"/>, a <see cref="PcaWhitening"/>, an identity, or a registered one).</summary>
    public nn.Module<Tensor, Tensor> Head => head;

    /// <summary>Width of the embeddings.</summary>
    public int EmbeddingDimension => Config.EmbeddingDimension;

    /// <summary>How the embeddings are compared (the configuration's metric); cosine embeddings come out L2-normalised.</summary>
    public Metric Metric => Config.Metric;

    /// <summary>Embeds images: normalise, backbone, pool, head, and L2 normalisation under the cosine metric.</summary>
    /// <param name="images">N × C × H × W floating-point images with values in [0, 1].</param>
    /// <returns>N × <see cref="EmbeddingDimension"/> embeddings.</returns>
    /// <exception cref="ArgumentException">The images are not 4-D floating point, have the wrong channel count, or contain NaN.</exception>
    public override Tensor forward(Tensor images)
    {
        var (_, after) = ForwardBoth(images);
        return Config.Metric == Metric.Cosine ? nn.functional.normalize(after, p: 2, dim: 1) : after;
    }

    /// <summary>
    /// Both training features (Luo et al.'s BNNeck): <c>BeforeBatchNorm</c>, the head's feature before its batch-norm neck, for
    /// the metric (pair, triplet, proxy) losses, and <c>AfterBatchNorm</c>, the feature after the neck, for the classification
    /// (softmax-family) losses. Neither is L2-normalised. For heads without a BNNeck both are the head's output.
    /// </summary>
    /// <param name="images">N × C × H × W floating-point images with values in [0, 1].</param>
    /// <exception cref="ArgumentException">The images are not 4-D floating point, have the wrong channel count, or contain NaN.</exception>
    public (Tensor BeforeBatchNorm, Tensor AfterBatchNorm) ForwardBoth(Tensor images)
    {
        Tensor pooled = Pooled(images);
        if (head is INeckHead split)
            return split.ForwardBoth(pooled);
        Tensor embedding = head.forward(pooled);
        return (embedding, embedding);
    }

    /// <summary>
    /// Fits a <c>pca_whitening</c> head on the pooled descriptors of <paramref name="source"/> (evaluation mode, no gradients;
    /// the training mode is restored), as cirtorch learns its whitening on a held-out set after training.
    /// </summary>
    /// <param name="source">The images to learn the whitening from, at least two.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <param name="cancellationToken">Stops between batches; the head is then left as it was.</param>
    /// <exception cref="InvalidOperationException">The head is not a PCA whitening.</exception>
    /// <exception cref="ArgumentException">The source has fewer than two readable images.</exception>
    public void FitWhitening(IImageBatchSource source, int batchSize = 64, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (head is not PcaWhitening whitening)
            throw new InvalidOperationException($"FitWhitening needs the head pca_whitening; this model's head is '{Config.Head}'.");
        // The view does not own the model (disposing it must not dispose the model), so the model's modes are handled here.
        ModuleModes modes = ModuleModes.Capture(this);
        ExtractedFeatures descriptors;
        try
        {
            eval();
            descriptors = new FeatureExtractor(new PooledView(this), new FeatureExtractorOptions { BatchSize = batchSize, Normalize = false, Device = parameters().FirstOrDefault()?.device })
                .Extract(source, cancellationToken: cancellationToken);
        }
        finally
        {
            modes.Restore();
        }
        using var scope = NewDisposeScope();
        whitening.Fit(EmbeddingTensor.FromRowMajor(descriptors.Vectors, descriptors.Dimension));
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

        // Everything the file declares is checked before the network is built: its configuration within bounds and valid
        // for the registries, and the head's largest tensor present in the file, so a small file cannot make libtorch
        // allocate a network far larger than the weights it stores.
        RetrievalModel model;
        try
        {
            var config = RetrievalModelConfigJson.Read(json, version);
            config.Validate();
            CheckHeadAgainstFile(config, header, version, path);
            model = new RetrievalModel(config);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException)
        {
            throw new InvalidDataException($"{path}: invalid model configuration: {e.Message}", e);
        }
        var tensors = SafeTensors.Load(path).Tensors;
        try
        {
            // Version 1 kept the head's layers at the top level; they now live under head.
            var mapping = version == 1 ? KeyMapping.Identity.Rename(@"^(projection|neck)\.", "head.$1.") : KeyMapping.Identity;
            StateDict.Load(model, tensors, mapping, strict: true, source: path);
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
        model.eval();
        return model;
    }

    private static void CheckHeadAgainstFile(RetrievalModelConfig config, SafeTensorsHeader header, int version, string path)
    {
        int pooled = config.PooledDimension;
        if (HeadRegistry.LargestTensor(config.Head, pooled, config.EmbeddingDimension) is not long needed || needed == 0)
            return;
        // Version 1 kept the head's layers at the top level (projection., neck.).
        bool IsHead(string name) => name.StartsWith("head.", StringComparison.Ordinal)
            || (version == 1 && (name.StartsWith("projection.", StringComparison.Ordinal) || name.StartsWith("neck.", StringComparison.Ordinal)));
        long largest = header.Entries.Where(t => IsHead(t.Name)).Select(t => TensorBytes.ElementCount(t.Shape) ?? 0).DefaultIfEmpty(0).Max();
        if (largest < needed)
            throw new InvalidDataException(
                $"{path}: the head '{config.Head}' from {pooled} to {config.EmbeddingDimension} dimensions needs a tensor of {needed} elements, but the file's largest head tensor has {largest}; the configuration does not match the weights.");
    }

    // Normalise the images, run the backbone and pool: the descriptor the head receives.
    private Tensor Pooled(Tensor images)
    {
        CheckImages(images);
        // Looked up rather than kept in fields, so the tensors moved by .to(device) are the ones used.
        Tensor normalised = (images - get_buffer("mean")!.to(images.dtype)) / get_buffer("std")!.to(images.dtype);
        return pool.forward(backbone.forward(normalised));
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

    /// <summary>The model up to its pooling, as a module the feature extractor can run; it refers to the model without owning it.</summary>
    private sealed class PooledView(RetrievalModel model) : nn.Module<Tensor, Tensor>(nameof(PooledView))
    {
        public override Tensor forward(Tensor images) => model.Pooled(images);
    }
}
