namespace DeepRetrieval.Imaging.Hashing;

/// <summary>A set of near-duplicate items found by <see cref="NearDuplicateGrouper"/>.</summary>
/// <param name="Members">Item indices, ascending; at least two.</param>
public sealed record DuplicateGroup(IReadOnlyList<int> Members);
