namespace DeepRetrieval.Imaging.Hashing;

/// <summary>A stored item that enough hash kinds vote for (see <see cref="PerceptualHashIndex.FindMatches(IReadOnlyList{PerceptualHash}, HashVoting)"/>).</summary>
/// <param name="Id">The item's id.</param>
/// <param name="Votes">How many kinds are within their threshold.</param>
/// <param name="Distances">Per kind, in the index's kind order, the Hamming distance to the query's hash.</param>
public sealed record HashMatch(long Id, int Votes, IReadOnlyList<int> Distances);
