namespace DeepRetrieval.Torch.Weights;

/// <summary>Where <see cref="PretrainedWeights"/> looks for weight files and how it downloads them.</summary>
public sealed class PretrainedOptions
{
    /// <summary>The cache directory; null for <see cref="PretrainedWeights.DefaultCacheDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>A weight file to load instead of the cached or downloaded one (never downloads, never hash-checked).</summary>
    public string? FilePath { get; init; }

    /// <summary>The client that downloads; null for a shared client. Inject one for proxies, authentication or tests.</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>Receives the number of bytes downloaded so far, after every chunk.</summary>
    public IProgress<long>? Progress { get; init; }
}
