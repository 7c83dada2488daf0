namespace DeepRetrieval.Aggregation;

/// <summary>
/// Settings of <see cref="AsmkIndex"/>. The defaults are ASMK* of Tolias, Avrithis &amp; Jégou ("Image search with
/// selective match kernels: aggregation across single and multiple images", IJCV 2016): binarised residuals, selectivity
/// exponent α = 3 and threshold τ = 0.
/// </summary>
public sealed record AsmkOptions
{
    /// <summary>Exponent α of the selectivity function σ(u) = sign(u)·|u|^α for u &gt; τ (0 otherwise); larger values favour near-identical residuals. Positive.</summary>
    public double Alpha { get; init; } = 3;

    /// <summary>Threshold τ below which a word's match contributes nothing; in [−1, 1).</summary>
    public double Threshold { get; init; }

    /// <summary>
    /// Store each word's aggregated residual as d sign bits and compare by normalised Hamming similarity u = 1 − 2h/d
    /// (ASMK*, d/8 bytes per word); false stores the unit residual itself and compares by dot product (ASMK, 4d bytes).
    /// </summary>
    public bool Binarize { get; init; } = true;

    /// <summary>
    /// Words each query descriptor is assigned to (multiple assignment on the query side only, as in HOW and the asmk
    /// package, which use 5 with deep features); 1 for hard assignment. Positive.
    /// </summary>
    public int QueryAssignments { get; init; } = 1;
}
