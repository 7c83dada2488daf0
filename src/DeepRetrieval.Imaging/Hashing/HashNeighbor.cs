namespace DeepRetrieval.Imaging.Hashing;

/// <summary>A stored item found by a <see cref="PerceptualHashIndex"/> search.</summary>
/// <param name="Id">The item's id.</param>
/// <param name="Distance">Hamming distance between its hash and the query's.</param>
public readonly record struct HashNeighbor(long Id, int Distance);
