namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// The download cache of pretrained weights (timm's <c>load_pretrained</c> and torch.hub's cache): a cache directory, atomic
/// downloads checked against the SHA-256 prefix of a <see cref="PretrainedConfig"/>, and a strict load through
/// <see cref="StateDict.LoadFile"/> with the configuration's <see cref="KeyMapping"/>. A file already in the cache, or passed by
/// path, is used without network. The weights of the registered backbones are in their registry entries
/// (<c>BackboneRegistry.Describe(name).Pretrained</c>); <c>BackboneRegistry.Create(name, pretrained: true)</c> is the one call
/// that builds a backbone and loads them.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>The environment variable that overrides <see cref="DefaultCacheDirectory"/>.</summary>
    public const string CacheEnvironmentVariable = "DEEPRETRIEVAL_CACHE";

    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(30) });

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

    /// <summary>
    /// The local path of the weight file: <see cref="PretrainedOptions.FilePath"/> when given, else the file in the cache
    /// directory, downloaded and verified first when missing.
    /// </summary>
    /// <param name="pretrained">The weights.</param>
    /// <param name="options">Cache directory, file path, HTTP client and progress; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the download (nothing is cached then).</param>
    /// <returns>The path of a complete, verified file.</returns>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses; the message names the URL and the cache path to put the file at by hand.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The downloaded file's SHA-256 does not start with the expected prefix; the message names the URL and both hashes, and nothing was cached.</exception>
    public static async Task<string> ResolveFileAsync(PretrainedConfig pretrained, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        options ??= new PretrainedOptions();
        if (options.FilePath is not null)
            return CheckedFilePath(options.FilePath);
        string path = CachePath(pretrained, options);
        if (File.Exists(path))
            return path;
        await WeightDownloader.DownloadAsync(options.HttpClient ?? SharedClient.Value, pretrained.Url, path, pretrained.Sha256Prefix, options.Progress, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>Synchronous <see cref="ResolveFileAsync"/>.</summary>
    /// <param name="pretrained">The weights.</param>
    /// <param name="options">Cache directory, file path, HTTP client and progress; null for the defaults.</param>
    /// <returns>The path of a complete, verified file.</returns>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses; the message names the URL and the cache path to put the file at by hand.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The downloaded file fails the hash check; nothing was cached.</exception>
    public static string ResolveFile(PretrainedConfig pretrained, PretrainedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        // On the thread pool, so that blocking cannot deadlock a caller's single-threaded synchronisation context.
        return Task.Run(() => ResolveFileAsync(pretrained, options)).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Loads the weights into <paramref name="module"/> (strict: every module tensor must be in the file with its shape, and
    /// nothing but what the mapping drops may be left over), downloading the file first if needed. The load runs on the calling
    /// thread (TorchSharp's dispose scopes and grad mode are per thread).
    /// </summary>
    /// <param name="module">The receiving network, built for the weights' architecture.</param>
    /// <param name="pretrained">The weights.</param>
    /// <param name="options">Cache directory, file path, HTTP client and progress; null for the defaults.</param>
    /// <returns>The load report (every tensor loaded; the classifier's keys listed as dropped).</returns>
    /// <exception cref="FileNotFoundException">The given <see cref="PretrainedOptions.FilePath"/> does not exist.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or refuses.</exception>
    /// <exception cref="IOException">The download broke off; nothing was cached.</exception>
    /// <exception cref="InvalidDataException">The file fails the hash check, is corrupt, or does not match the module; nothing was copied.</exception>
    public static StateDictLoadReport LoadInto(TorchSharp.torch.nn.Module module, PretrainedConfig pretrained, PretrainedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        string path = ResolveFile(pretrained, options);
        return StateDict.LoadFile(module, path, pretrained.Mapping, strict: true);
    }

    /// <summary>Where the file is (or would be) cached.</summary>
    /// <param name="pretrained">The weights.</param>
    /// <param name="options">Options naming the cache directory; null for <see cref="DefaultCacheDirectory"/>.</param>
    public static string CachePath(PretrainedConfig pretrained, PretrainedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        return Path.Combine(options?.CacheDirectory ?? DefaultCacheDirectory, pretrained.FileName);
    }

    /// <summary>Throws unless the user-given weight file exists.</summary>
    internal static string CheckedFilePath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The weight file {path} given in PretrainedOptions.FilePath does not exist.", path);
        return path;
    }
}
