using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using DeepRetrieval.Torch.Backbones;

namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// Pretrained weights by backbone name, like timm's <c>create_model(name, pretrained=True)</c>: a table of the official files
/// (torchvision's ImageNet-1k <c>IMAGENET1K_V1</c> checkpoints, which <c>pretrained=True</c> gives in torchvision, and timm's default
/// pretrained tag on the Hugging Face Hub), a cache directory, atomic downloads checked against the SHA-256 prefix that torchvision
/// puts in its file names, and a strict load through <see cref="StateDict.LoadFile"/> with the entry's <see cref="KeyMapping"/>
/// (the classifier is dropped). A file already in the cache, or passed by path, is used without network.
/// </summary>
public static partial class PretrainedWeights
{
    /// <summary>The environment variable that overrides <see cref="DefaultCacheDirectory"/>.</summary>
    public const string CacheEnvironmentVariable = "DEEPRETRIEVAL_CACHE";

    private static readonly ConcurrentDictionary<string, PretrainedWeightsEntry> Entries = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(30) });

    static PretrainedWeights()
    {
        foreach (var entry in BuiltIn())
            Entries[entry.Name] = entry;
    }

    /// <summary>Every name with known weights, sorted.</summary>
    public static IReadOnlyList<string> Names => Entries.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// <c>$DEEPRETRIEVAL_CACHE</c> when set, otherwise <c>~/.cache/deepretrieval/weights</c>. Read on every call, so setting the
    /// variable later takes effect.
    /// </summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(configured))
                return configured;
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".cache", "deepretrieval", "weights");
        }
    }

    /// <summary>Whether weights are known for <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">A backbone name.</param>
    public static bool Contains(string name) => name is not null && Entries.ContainsKey(name);

    /// <summary>The entry for <paramref name="name"/>.</summary>
    /// <param name="name">A backbone name, case-insensitive.</param>
    /// <exception cref="ArgumentException">No weights are known for the name; the message lists the names that have some.</exception>
    public static PretrainedWeightsEntry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Entries.TryGetValue(name, out var entry))
            return entry;
        throw new ArgumentException($"No pretrained weights are known for '{name}'. Known: {string.Join(", ", Names)}. Register others with PretrainedWeights.Register, or load a file with StateDict.LoadFile.", nameof(name));
    }

    /// <summary>
    /// Adds (or replaces) the weight file for <paramref name="name"/>. The cache file name is the URL's last path segment,
    /// except for Hugging Face files (all called <c>model.safetensors</c>), which are cached as <c>&lt;repository&gt;.safetensors</c>.
    /// </summary>
    /// <param name="name">The backbone name the file belongs to.</param>
    /// <param name="url">The absolute http or https address of the file.</param>
    /// <param name="sha256Prefix">Leading hex digits of the file's SHA-256 (at least 8), or null to skip the check.</param>
    /// <param name="mapping">The key mapping; null for <see cref="KeyMapping.ForFamily"/> of the name, or <see cref="KeyMapping.DropClassifier"/> when the family has no preset.</param>
    /// <returns>The registered entry.</returns>
    /// <exception cref="ArgumentException">The name is empty, the URL is not absolute http(s) or names no file, or the prefix is not 8 or more hex digits.</exception>
    public static PretrainedWeightsEntry Register(string name, string url, string? sha256Prefix, KeyMapping? mapping = null)
    {
        var entry = CreateEntry(name, url, sha256Prefix, mapping);
        Entries[entry.Name] = entry;
        return entry;
    }

    /// <summary>
    /// The local path of <paramref name="name"/>'s weight file: <see cref="PretrainedOptions.FilePath"/> when given, else the file
    /// in the cache directory, downloaded first when missing.
    /// </summary>
    /// <param name="name">A name with known weights.</param>
    /// <param name="options">Cache directory, file path, HTTP client and progress; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the download (nothing is cached then).</param>
    /// <returns>The path of a complete, verified file.</returns>
    /// <exception cref="ArgumentException">No weights are known for the name.</exception>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses; the message names the URL and the cache path to put the file at by hand.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The downloaded file's SHA-256 does not start with the expected prefix; the message names the URL and both hashes, and nothing was cached.</exception>
    public static async Task<string> ResolveFileAsync(string name, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PretrainedOptions();
        if (options.FilePath is not null)
            return CheckedFilePath(options.FilePath);
        var entry = Find(name);
        string path = CachePath(entry, options);
        if (File.Exists(path))
            return path;
        await WeightDownloader.DownloadAsync(options.HttpClient ?? SharedClient.Value, entry.Url, path, entry.Sha256Prefix, options.Progress, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>Synchronous <see cref="ResolveFileAsync"/>.</summary>
    /// <param name="name">A name with known weights.</param>
    /// <param name="options">Cache directory, file path, HTTP client and progress; null for the defaults.</param>
    /// <returns>The path of a complete, verified file.</returns>
    /// <exception cref="ArgumentException">No weights are known for the name.</exception>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses; the message names the URL and the cache path to put the file at by hand.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The downloaded file fails the hash check; nothing was cached.</exception>
    public static string ResolveFile(string name, PretrainedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return RunSynchronously(() => ResolveFileAsync(name, options));
    }

    /// <summary>
    /// Loads <paramref name="name"/>'s pretrained weights into <paramref name="backbone"/> (strict: every backbone tensor must be in
    /// the file with its shape, and nothing but the dropped classifier may be left over), downloading the file first if needed.
    /// The load runs on the calling thread (TorchSharp's dispose scopes and grad mode are per thread); to download without
    /// blocking, await <see cref="ResolveFileAsync"/> first, after which this finds the file in the cache.
    /// </summary>
    /// <param name="backbone">The receiving backbone, built for <paramref name="name"/>'s architecture with 3 input channels.</param>
    /// <param name="name">A name with known weights; with <see cref="PretrainedOptions.FilePath"/> any name (its family's key mapping, else <see cref="KeyMapping.DropClassifier"/>).</param>
    /// <param name="options">Cache directory, file path, HTTP client and progress; null for the defaults.</param>
    /// <returns>The load report (every tensor loaded; the classifier's keys listed as dropped).</returns>
    /// <exception cref="ArgumentException">No weights are known for the name.</exception>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses; the message names the URL and the cache path to put the file at by hand.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The file fails the hash check, is corrupt, or does not match the backbone; nothing was copied.</exception>
    public static StateDictLoadReport LoadInto(Backbone backbone, string name, PretrainedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        var mapping = MappingFor(name, options);
        string path = ResolveFile(name, options);
        return StateDict.LoadFile(backbone, path, mapping, strict: true);
    }

    /// <summary>
    /// Builds <paramref name="name"/> through <see cref="BackboneRegistry"/> and loads its pretrained weights (timm's
    /// <c>create_model(name, pretrained=True)</c>). The file is resolved (downloaded) before the network is built.
    /// </summary>
    /// <param name="name">A registered backbone name with known weights.</param>
    /// <param name="options">Cache directory, file path, HTTP client, progress and backbone options; null for the defaults.</param>
    /// <returns>The backbone with pretrained weights, in training mode as built.</returns>
    /// <exception cref="ArgumentException">The name is not registered or has no known weights.</exception>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses; the message names the URL and the cache path to put the file at by hand.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The file fails the hash check, is corrupt, or does not match the backbone.</exception>
    public static Backbone CreatePretrained(string name, PretrainedOptions? options = null)
    {
        var mapping = MappingFor(name, options);
        BackboneRegistry.Describe(name);
        string path = ResolveFile(name, options);
        var backbone = BackboneRegistry.Create(name, options?.BackboneOptions);
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

    /// <summary>Where <paramref name="entry"/>'s file is (or would be) cached.</summary>
    /// <param name="entry">A weights entry.</param>
    /// <param name="options">Options naming the cache directory; null for <see cref="DefaultCacheDirectory"/>.</param>
    public static string CachePath(PretrainedWeightsEntry entry, PretrainedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Path.Combine(options?.CacheDirectory ?? DefaultCacheDirectory, entry.FileName);
    }

    private static string CheckedFilePath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The weight file {path} given in PretrainedOptions.FilePath does not exist.", path);
        return path;
    }

    // Runs on the thread pool so that blocking cannot deadlock a caller's single-threaded synchronisation context.
    private static T RunSynchronously<T>(Func<Task<T>> work) => Task.Run(work).GetAwaiter().GetResult();

    private static KeyMapping MappingFor(string name, PretrainedOptions? options)
    {
        ArgumentNullException.ThrowIfNull(name);
        return options?.FilePath is not null && !Contains(name) ? DefaultMapping(name) : Find(name).Mapping;
    }

    private static KeyMapping DefaultMapping(string name)
    {
        try
        {
            return KeyMapping.ForFamily(name);
        }
        catch (ArgumentException)
        {
            return KeyMapping.DropClassifier;
        }
    }

    private static PretrainedWeightsEntry CreateEntry(string name, string url, string? sha256Prefix, KeyMapping? mapping)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new ArgumentException($"'{url}' is not an absolute http or https URL.", nameof(url));
        string fileName = Path.GetFileName(uri.AbsolutePath);
        if (fileName.Length == 0)
            throw new ArgumentException($"'{url}' does not name a file.", nameof(url));
        if (sha256Prefix is not null && !Sha256PrefixPattern().IsMatch(sha256Prefix))
            throw new ArgumentException($"'{sha256Prefix}' is not a SHA-256 prefix of 8 to 64 hex digits.", nameof(sha256Prefix));
        if (uri.Host.Equals("huggingface.co", StringComparison.OrdinalIgnoreCase))
        {
            // https://huggingface.co/<owner>/<repository>/resolve/<revision>/<file>: every timm file is model.safetensors.
            string[] segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length >= 3)
                fileName = $"{segments[1]}{Path.GetExtension(fileName)}";
        }
        return new PretrainedWeightsEntry(name, uri, sha256Prefix?.ToLowerInvariant(), mapping ?? DefaultMapping(name), fileName);
    }

    [GeneratedRegex("^[0-9a-fA-F]{8,64}$")]
    private static partial Regex Sha256PrefixPattern();

    private static IEnumerable<PretrainedWeightsEntry> BuiltIn()
    {
        // torchvision's IMAGENET1K_V1 files (what pretrained=True loads); the hex after the dash is the SHA-256 prefix.
        string[] torchVisionFiles =
        [
            "resnet18-f37072fd", "resnet34-b627a593", "resnet50-0676ba61", "resnet101-63fe2227", "resnet152-394f9c45",
            "resnext50_32x4d-7cdf4587", "resnext101_32x8d-8ba56ff5", "resnext101_64x4d-173b62eb",
            "wide_resnet50_2-95faca4d", "wide_resnet101_2-32ee1156",
            "vgg11-8a719046", "vgg11_bn-6002323d", "vgg13-19584684", "vgg13_bn-abd245e5",
            "vgg16-397923af", "vgg16_bn-6c64b313", "vgg19-dcbb9e9d", "vgg19_bn-c79401a0",
            "mobilenet_v2-b0353104", "mobilenet_v3_small-047dcff4", "mobilenet_v3_large-8738ca79",
        ];
        foreach (string file in torchVisionFiles)
        {
            int dash = file.LastIndexOf('-');
            yield return CreateEntry(file[..dash], $"https://download.pytorch.org/models/{file}.pth", file[(dash + 1)..], null);
        }

        // timm's default pretrained tag per architecture (the first tag with weights in its default_cfgs), except
        // efficientnet_b1, whose default ra4 weights expect mean = std = 0.5 while our efficientnet_b1 declares ImageNet's.
        string[] timmRepositories =
        [
            "efficientnet_b0.ra_in1k", "efficientnet_b1.ft_in1k", "efficientnet_b2.ra_in1k", "efficientnet_b3.ra2_in1k",
            "densenet121.ra_in1k",
            "vit_tiny_patch16_224.augreg_in21k_ft_in1k", "vit_small_patch16_224.augreg_in21k_ft_in1k", "vit_base_patch16_224.augreg2_in21k_ft_in1k",
            "swin_tiny_patch4_window7_224.ms_in1k",
            "seresnet50.a1_in1k", "resnest50d.in1k",
        ];
        foreach (string repository in timmRepositories)
            yield return CreateEntry(repository[..repository.IndexOf('.')], $"https://huggingface.co/timm/{repository}/resolve/main/model.safetensors", null, null);
    }
}
