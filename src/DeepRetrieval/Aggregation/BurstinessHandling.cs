namespace DeepRetrieval.Aggregation;

/// <summary>
/// Damping of bursty visual words — repeated structures (windows, foliage) that put many features in one word and
/// dominate the similarity (Jégou, Douze &amp; Schmid, "On the burstiness of visual elements", CVPR 2009).
/// </summary>
public enum BurstinessHandling
{
    /// <summary>Raw counts.</summary>
    None,

    /// <summary>
    /// Square root of each count (power normalisation with α = 0.5). With a dot-product score this is exactly Jégou et
    /// al.'s intra-image normalisation: the tq · td matches of a word between two images count √(tq · td) in total.
    /// </summary>
    SquareRoot,

    /// <summary>Presence only: every word that occurs counts 1, however often.</summary>
    Binary,
}
