namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// One known pretrained weight file: the backbone name it belongs to, where it is published, the leading hex digits of its
/// SHA-256 (checked after every download; null when the publisher gives none, as for Hugging Face files), the key mapping that
/// turns its keys into the backbone's, and the file name it is cached under.
/// </summary>
/// <param name="Name">The registry name, e.g. <c>resnet50</c>.</param>
/// <param name="Url">The absolute http(s) address of the file.</param>
/// <param name="Sha256Prefix">Leading lowercase hex digits of the file's SHA-256, or null for no check.</param>
/// <param name="Mapping">Maps the file's keys to the backbone's (e.g. drops the classifier).</param>
/// <param name="FileName">The file's name in the cache directory; its extension picks the reader (<c>.safetensors</c> or a torch checkpoint).</param>
public sealed record PretrainedWeightsEntry(string Name, Uri Url, string? Sha256Prefix, KeyMapping Mapping, string FileName);
