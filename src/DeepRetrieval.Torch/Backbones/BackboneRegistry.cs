using System.Collections.Concurrent;

namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// Builds backbones by name, timm style (<c>timm.create_model(name, features_only=True)</c>): <c>resnet50</c>,
/// <c>efficientnet_b0</c>, <c>vit_small_patch16_224</c>, <c>small_cnn</c>, ... <see cref="Describe"/> tells a backbone's output
/// channels, stride, input size and normalisation without building it. Names are case-insensitive. Applications can
/// <see cref="Register"/> their own networks; a saved <c>RetrievalModel</c> rebuilds its backbone through this registry.
/// </summary>
public static class BackboneRegistry
{
    private static readonly ConcurrentDictionary<string, Entry> Entries = new(StringComparer.OrdinalIgnoreCase);

    static BackboneRegistry()
    {
        foreach (var (info, factory) in BuiltIn())
            Entries[info.Name] = new Entry(info, factory);
    }

    /// <summary>Every registered name, sorted.</summary>
    public static IReadOnlyList<string> Names => Entries.Values.Select(e => e.Info.Name).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    /// <param name="name">A backbone name.</param>
    public static bool Contains(string name) => name is not null && Entries.ContainsKey(name);

    /// <summary>What the named backbone produces and expects, without building it.</summary>
    /// <param name="name">A registered name.</param>
    /// <exception cref="ArgumentException">The name is not registered; the message lists the registered names.</exception>
    public static BackboneInfo Describe(string name) => Find(name).Info;

    /// <summary>Builds the named backbone with randomly initialised weights (load pretrained weights afterwards).</summary>
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

    /// <summary>Registers (or replaces) a backbone under <paramref name="info"/>'s name.</summary>
    /// <param name="info">Name, output shape and normalisation of the backbone.</param>
    /// <param name="factory">Builds the backbone for the given options.</param>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public static void Register(BackboneInfo info, Func<BackboneOptions, Backbone> factory)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentException.ThrowIfNullOrWhiteSpace(info.Name, nameof(info));
        Entries[info.Name] = new Entry(info, factory);
    }

    private static Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Entries.TryGetValue(name, out var entry))
            return entry;
        throw new ArgumentException($"Unknown backbone '{name}'. Registered backbones: {string.Join(", ", Names)}.", nameof(name));
    }

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
