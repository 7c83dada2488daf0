using DeepRetrieval.Torch.Weights;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Builds backbones by name, timm style (<c>timm.create_model(name, pretrained=True, features_only=True)</c>):
/// <c>resnet50</c>, <c>efficientnet_b0</c>, <c>vit_small_patch16_224</c>, <c>small_cnn</c>, ... Each entry is a
/// <see cref="BackboneInfo"/> (output channels, stride, input size, normalisation and, in <see cref="BackboneInfo.Pretrained"/>,
/// the pretrained weights: URL, hash, key mapping) and a factory. <see cref="Describe"/> tells all that without building;
/// <c>Create(name, pretrained: true)</c> builds the network and loads its weights (downloaded once into the cache, or a file
/// the user placed there). Names are case-insensitive. Applications can <see cref="Register"/> their own networks and
/// <see cref="RegisterPretrained"/> other weights; a saved <c>RetrievalModel</c> rebuilds its backbone through this registry.
/// </summary>
public static class BackboneRegistry
{
    private static readonly NamedRegistry<Entry> Entries = new("backbone");

    static BackboneRegistry()
    {
        foreach (var (info, factory) in BuiltIn())
            Entries.Set(info.Name, new Entry(info.WithPretrainedDataConfig(), factory));
    }

    /// <summary>Every registered name, sorted.</summary>
    public static IReadOnlyList<string> Names => Entries.Names;

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    /// <param name="name">A backbone name.</param>
    public static bool Contains(string name) => Entries.Contains(name);

    /// <summary>What the named backbone produces and expects, and where its pretrained weights are, without building it.</summary>
    /// <param name="name">A registered name.</param>
    /// <exception cref="ArgumentException">The name is not registered; the message lists the registered names.</exception>
    public static BackboneInfo Describe(string name) => Find(name).Info;

    /// <summary>Builds the named backbone with randomly initialised weights.</summary>
    /// <param name="name">A registered name.</param>
    /// <param name="options">Construction options; null for the defaults.</param>
    /// <exception cref="ArgumentException">The name is not registered.</exception>
    public static Backbone Create(string name, BackboneOptions? options = null)
    {
        var entry = Find(name);
        options ??= BackboneOptions.Default;
        if (options.InputChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.InputChannels, "A backbone needs at least one input channel.");
        if (options.Seed is long seed)
            TorchSharp.torch.manual_seed(seed);
        return entry.Factory(options);
    }

    /// <summary>
    /// Builds the named backbone and, when <paramref name="pretrained"/> is true, loads its registered pretrained weights
    /// (timm's <c>create_model(name, pretrained=True)</c>): the file is taken from <see cref="PretrainedOptions.FilePath"/>, else
    /// from the cache, else downloaded into the cache and verified, before the network is built; the load is strict (every
    /// backbone tensor must be in the file with its shape; only the classifier may be left over). The load runs on the calling
    /// thread; to download without blocking, await <see cref="PretrainedWeights.ResolveFileAsync"/> first.
    /// </summary>
    /// <param name="name">A registered name.</param>
    /// <param name="pretrained">Load the pretrained weights; false is <see cref="Create(string, BackboneOptions?)"/>.</param>
    /// <param name="options">Construction options; null for the defaults. Pretrained weights need the input channels they were trained with.</param>
    /// <param name="weights">Cache directory, a file to use instead, HTTP client and progress; null for the defaults.</param>
    /// <returns>The backbone, in training mode as built.</returns>
    /// <exception cref="ArgumentException">The name is not registered, or it has no pretrained weights and no file is given.</exception>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses; the message names the URL and the cache path to put the file at by hand.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The file fails the hash check, is corrupt, or does not match the backbone.</exception>
    public static Backbone Create(string name, bool pretrained, BackboneOptions? options = null, PretrainedOptions? weights = null)
    {
        if (!pretrained)
            return Create(name, options);
        var info = Describe(name);
        var (path, mapping) = ResolvePretrained(info, weights);
        var backbone = Create(name, options);
        try
        {
            StateDict.LoadFile(backbone, path, mapping, strict: true);
            return backbone;
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the named backbone's registered pretrained weights into an existing network built for that architecture (for example
    /// the backbone of a <c>RetrievalModel</c>), strictly, downloading the file first when it is not cached.
    /// </summary>
    /// <param name="backbone">The receiving network.</param>
    /// <param name="name">The registered name whose weights to load.</param>
    /// <param name="weights">Cache directory, a file to use instead, HTTP client and progress; null for the defaults.</param>
    /// <returns>The load report (every tensor loaded; the classifier's keys listed as dropped).</returns>
    /// <exception cref="ArgumentException">The name is not registered, or it has no pretrained weights and no file is given.</exception>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The file fails the hash check, is corrupt, or does not match the backbone; nothing was copied.</exception>
    public static StateDictLoadReport LoadPretrained(Backbone backbone, string name, PretrainedOptions? weights = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        var (path, mapping) = ResolvePretrained(Describe(name), weights);
        return StateDict.LoadFile(backbone, path, mapping, strict: true);
    }

    /// <summary>Registers (or replaces) a backbone under <paramref name="info"/>'s name, with its pretrained weights when <see cref="BackboneInfo.Pretrained"/> is set.</summary>
    /// <param name="info">Name, output shape, normalisation and pretrained weights of the backbone.</param>
    /// <param name="factory">Builds the backbone for the given options.</param>
    /// <exception cref="ArgumentException">The name is empty, or the pretrained mean or standard deviation has another channel count.</exception>
    public static void Register(BackboneInfo info, Func<BackboneOptions, Backbone> factory)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentException.ThrowIfNullOrWhiteSpace(info.Name, nameof(info));
        if (info.Pretrained is { } pretrained)
            CheckDataConfig(pretrained, info.InputChannels);
        Entries.Set(info.Name, new Entry(info.WithPretrainedDataConfig(), factory));
    }

    /// <summary>
    /// Attaches (or replaces) the pretrained weights of a registered backbone, e.g. another timm tag; its input size, mean and
    /// standard deviation, where given, become the entry's.
    /// </summary>
    /// <param name="name">A registered name.</param>
    /// <param name="pretrained">The weights.</param>
    /// <returns>The updated description.</returns>
    /// <exception cref="ArgumentException">The name is not registered, or the mean or standard deviation has another channel count.</exception>
    public static BackboneInfo RegisterPretrained(string name, PretrainedConfig pretrained)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        var entry = Find(name);
        CheckDataConfig(pretrained, entry.Info.InputChannels);
        var updated = entry with { Info = (entry.Info with { Pretrained = pretrained }).WithPretrainedDataConfig() };
        Entries.Set(entry.Info.Name, updated);
        return updated.Info;
    }

    private static (string Path, KeyMapping Mapping) ResolvePretrained(BackboneInfo info, PretrainedOptions? weights)
    {
        if (info.Pretrained is { } pretrained)
            return (PretrainedWeights.ResolveFile(pretrained, weights), pretrained.Mapping);
        if (weights?.FilePath is { } file)
            return (PretrainedWeights.CheckedFilePath(file), KeyMapping.DropClassifier);
        throw new ArgumentException(
            $"No pretrained weights are registered for '{info.Name}'. Backbones with weights: {string.Join(", ", Entries.Entries.Where(e => e.Info.Pretrained is not null).Select(e => e.Info.Name).Order(StringComparer.Ordinal))}. " +
            "Register some with BackboneRegistry.RegisterPretrained, or give a file in PretrainedOptions.FilePath.", nameof(info));
    }

    private static void CheckDataConfig(PretrainedConfig pretrained, int channels)
    {
        if (pretrained.Mean is { } mean && mean.Count != channels || pretrained.Std is { } std && std.Count != channels)
            throw new ArgumentException($"The pretrained weights' mean and standard deviation must have one value per input channel ({channels}).", nameof(pretrained));
        if (pretrained.InputSize is <= 0)
            throw new ArgumentException($"The pretrained weights' input size must be positive; got {pretrained.InputSize}.", nameof(pretrained));
    }

    private static Entry Find(string name) => Entries.Find(name);

    private static IEnumerable<(BackboneInfo Info, Func<BackboneOptions, Backbone> Factory)> BuiltIn() =>
        SmallCnn.Registrations()
            .Concat(TorchVisionResNet.Registrations())
            .Concat(TorchVisionVgg.Registrations())
            .Concat(TorchVisionMobileNet.Registrations())
            .Concat(ResNet.Registrations())
            .Concat(EfficientNet.Registrations())
            .Concat(DenseNet.Registrations())
            .Concat(VisionTransformer.Registrations())
            .Concat(SwinTransformer.Registrations());

    private sealed record Entry(BackboneInfo Info, Func<BackboneOptions, Backbone> Factory);
}
