namespace DeepRetrieval.Torch.Miners;

/// <summary>
/// Which triplets <see cref="BatchAllMiner"/> keeps, by the triplet margin <c>m(a,p,n) = d(a,n) − d(a,p)</c>
/// (for a similarity, <c>s(a,p) − s(a,n)</c>), as PML <c>TripletMarginMiner</c>'s <c>type_of_triplets</c>.
/// </summary>
public enum TripletMiningType
{
    /// <summary>Every triplet that violates the margin: <c>m ≤ margin</c>.</summary>
    All,

    /// <summary>Violating triplets whose negative is at least as close as the positive: <c>m ≤ 0</c>.</summary>
    Hard,

    /// <summary>Violating triplets whose negative is farther than the positive: <c>0 &lt; m ≤ margin</c>.</summary>
    SemiHard,

    /// <summary>Triplets that already satisfy the margin: <c>m &gt; margin</c>.</summary>
    Easy,
}
