using System.Text.RegularExpressions;

namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// A backbone's pretrained weights, as timm's <c>pretrained_cfg</c>: where the file is published, the leading hex digits of
/// its SHA-256 (checked after every download; null when the publisher gives none, as for Hugging Face files), the key mapping
/// that turns its keys into the backbone's (the classifier is dropped), the name it is cached under, and the data
/// configuration the weights were trained with when it differs from the architecture's (input size, mean, standard
/// deviation). Attach it to a backbone's registry entry with <see cref="Backbones.BackboneInfo.Pretrained"/> or
/// <see cref="Backbones.BackboneRegistry.RegisterPretrained"/>; <c>BackboneRegistry.Create(name, pretrained: true)</c> then
/// downloads (once), verifies and loads it.
/// </summary>
public sealed partial record PretrainedConfig
{
    /// <summary>Describes a weight file.</summary>
    /// <param name="url">The absolute http or https address of the file.</param>
    /// <param name="sha256Prefix">Leading hex digits of the file's SHA-256 (at least 8), or null to skip the check.</param>
    /// <param name="mapping">The key mapping; null for <see cref="KeyMapping.DropClassifier"/>.</param>
    /// <exception cref="ArgumentException">The URL is not absolute http(s) or names no file, or the prefix is not 8 to 64 hex digits.</exception>
    public PretrainedConfig(string url, string? sha256Prefix = null, KeyMapping? mapping = null)
    {
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
        Url = uri;
        Sha256Prefix = sha256Prefix?.ToLowerInvariant();
        Mapping = mapping ?? KeyMapping.DropClassifier;
        FileName = fileName;
    }

    /// <summary>The absolute http(s) address of the file.</summary>
    public Uri Url { get; }

    /// <summary>Leading lowercase hex digits of the file's SHA-256, or null for no check.</summary>
    public string? Sha256Prefix { get; }

    /// <summary>Maps the file's keys to the backbone's (e.g. drops the classifier).</summary>
    public KeyMapping Mapping { get; }

    /// <summary>
    /// The file's name in the cache directory: the URL's last path segment, except for Hugging Face files (all called
    /// <c>model.safetensors</c>), cached as <c>&lt;repository&gt;.safetensors</c>. Its extension picks the reader
    /// (<c>.safetensors</c> or a torch checkpoint).
    /// </summary>
    public string FileName { get; }

    /// <summary>The weights' tag (timm's <c>name.tag</c>, torchvision's <c>IMAGENET1K_V1</c>), for display; null when unnamed.</summary>
    public string? Tag { get; init; }

    /// <summary>The square input size the weights were trained at, when it differs from the architecture's; null otherwise.</summary>
    public int? InputSize { get; init; }

    /// <summary>The per-channel mean the weights expect, when it differs from the architecture's; null otherwise.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    /// <summary>The per-channel standard deviation the weights expect, when it differs from the architecture's; null otherwise.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>torchvision's ImageNet-1k file <c>https://download.pytorch.org/models/&lt;file&gt;.pth</c>, whose name ends with its SHA-256 prefix.</summary>
    /// <param name="file">The file name without extension, e.g. <c>resnet50-0676ba61</c>.</param>
    internal static PretrainedConfig TorchVision(string file) =>
        new($"https://download.pytorch.org/models/{file}.pth", file[(file.LastIndexOf('-') + 1)..]) { Tag = "IMAGENET1K_V1" };

    /// <summary>timm's weights on the Hugging Face Hub, <c>https://huggingface.co/timm/&lt;name.tag&gt;/resolve/main/model.safetensors</c>.</summary>
    /// <param name="repository">The timm model and tag, e.g. <c>efficientnet_b0.ra_in1k</c>.</param>
    internal static PretrainedConfig Timm(string repository) =>
        new($"https://huggingface.co/timm/{repository}/resolve/main/model.safetensors") { Tag = repository[(repository.IndexOf('.') + 1)..] };

    [GeneratedRegex("^[0-9a-fA-F]{8,64}$")]
    private static partial Regex Sha256PrefixPattern();
}
