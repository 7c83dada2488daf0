using System.Text.RegularExpressions;

namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// Turns the keys of a pretrained state dict into the keys of the receiving module, in this order: strip leading prefixes
/// (repeatedly, so <c>module.model.</c> goes too), apply regex rename rules in the order added, then drop keys that start with
/// a dropped prefix or match a dropped pattern (after renaming). Immutable: each method returns a new mapping, so presets can
/// be extended. Presets: <see cref="Identity"/>, <see cref="DropClassifier"/> (torchvision and timm checkpoints for our
/// backbones, whose names equal the reference implementation's) and <see cref="SmallCnnReference"/>; each registered
/// backbone's pretrained weights carry their own mapping (<see cref="PretrainedConfig.Mapping"/>).
/// </summary>
public sealed class KeyMapping
{
    private readonly string[] _prefixes;
    private readonly (Regex Pattern, string Replacement)[] _renames;
    private readonly string[] _droppedPrefixes;
    private readonly Regex[] _droppedPatterns;

    private KeyMapping(string[] prefixes, (Regex, string)[] renames, string[] droppedPrefixes, Regex[] droppedPatterns)
    {
        _prefixes = prefixes;
        _renames = renames;
        _droppedPrefixes = droppedPrefixes;
        _droppedPatterns = droppedPatterns;
    }

    /// <summary>Keeps every key as it is.</summary>
    public static KeyMapping Identity { get; } = new([], [], [], []);

    /// <summary>
    /// Strips the wrappers' prefixes <c>module.</c> (DataParallel / DistributedDataParallel) and <c>model.</c> (Lightning) and drops
    /// the classifier heads of the registered backbone families' checkpoints, which a backbone cut before its classifier lacks:
    /// <c>fc.</c> (torchvision ResNet, ResNeXt and Wide ResNet; timm SE-ResNet and ResNeSt), <c>classifier.</c> (torchvision VGG
    /// and MobileNet; timm EfficientNet and DenseNet) and <c>head.</c> (timm ViT and Swin). Every built-in
    /// <see cref="PretrainedConfig"/> uses it.
    /// </summary>
    public static KeyMapping DropClassifier { get; } = Identity
        .StripPrefixes("module.", "model.")
        .Drop("fc.", "classifier.", "head.");

    /// <summary>
    /// The names of <c>small_cnn</c>'s reference training script (<c>fmnist_pml_anchor.py</c>, whose <c>Net</c> is this
    /// library's <see cref="Backbones.SmallCnn"/>): its <c>f.</c> sequence is renamed <c>features.</c> and its <c>emb.</c>
    /// embedding layer dropped, after <see cref="DropClassifier"/>'s prefixes.
    /// </summary>
    public static KeyMapping SmallCnnReference { get; } = DropClassifier.Rename(@"^f\.", "features.").Drop("emb.");

    /// <summary>Adds leading prefixes to strip (each is stripped repeatedly while a key starts with one).</summary>
    /// <param name="prefixes">Prefixes such as <c>module.</c>.</param>
    /// <exception cref="ArgumentException">A prefix is empty.</exception>
    public KeyMapping StripPrefixes(params string[] prefixes)
    {
        CheckTexts(prefixes, nameof(prefixes));
        return new([.. _prefixes, .. prefixes], _renames, _droppedPrefixes, _droppedPatterns);
    }

    /// <summary>Adds a rename rule: every match of <paramref name="pattern"/> in a key is replaced (.NET regex substitution syntax, <c>$1</c>).</summary>
    /// <param name="pattern">A regular expression, e.g. <c>^backbone\.</c>.</param>
    /// <param name="replacement">The replacement, e.g. an empty string.</param>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression.</exception>
    public KeyMapping Rename(string pattern, string replacement)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ArgumentNullException.ThrowIfNull(replacement);
        return new(_prefixes, [.. _renames, (new Regex(pattern, RegexOptions.CultureInvariant), replacement)], _droppedPrefixes, _droppedPatterns);
    }

    /// <summary>Adds prefixes whose keys are dropped (after stripping and renaming), e.g. a classifier's <c>fc.</c>.</summary>
    /// <param name="prefixes">Key prefixes.</param>
    /// <exception cref="ArgumentException">A prefix is empty.</exception>
    public KeyMapping Drop(params string[] prefixes)
    {
        CheckTexts(prefixes, nameof(prefixes));
        return new(_prefixes, _renames, [.. _droppedPrefixes, .. prefixes], _droppedPatterns);
    }

    /// <summary>Adds a pattern whose matching keys are dropped (after stripping and renaming).</summary>
    /// <param name="pattern">A regular expression, e.g. <c>num_batches_tracked$</c>.</param>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression.</exception>
    public KeyMapping DropMatching(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        return new(_prefixes, _renames, _droppedPrefixes, [.. _droppedPatterns, new Regex(pattern, RegexOptions.CultureInvariant)]);
    }

    /// <summary>The receiving module's key for a checkpoint key, or null when the key is dropped.</summary>
    /// <param name="key">A checkpoint key.</param>
    public string? Map(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        bool stripped = true;
        while (stripped)
        {
            stripped = false;
            foreach (string prefix in _prefixes)
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    key = key[prefix.Length..];
                    stripped = true;
                }
            }
        }
        foreach (var (pattern, replacement) in _renames)
            key = pattern.Replace(key, replacement);
        if (_droppedPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)) || _droppedPatterns.Any(p => p.IsMatch(key)))
            return null;
        return key;
    }

    private static void CheckTexts(string[] texts, string name)
    {
        ArgumentNullException.ThrowIfNull(texts, name);
        if (texts.Any(string.IsNullOrEmpty))
            throw new ArgumentException("Prefixes must not be empty.", name);
    }
}
