namespace DeepRetrieval.Torch.Data;

/// <summary>Where <see cref="ImageFileSet.Preload"/> stands.</summary>
/// <param name="Loaded">Images decoded (and cached, when the cache has room) so far.</param>
/// <param name="Skipped">Images found unreadable so far.</param>
/// <param name="Total">Images in the set.</param>
public sealed record ImageLoadProgress(long Loaded, long Skipped, long Total);
