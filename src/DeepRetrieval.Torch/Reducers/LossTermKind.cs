namespace DeepRetrieval.Torch.Reducers;

/// <summary>What each value of a <see cref="LossTerms"/> belongs to (PML's <c>reduction_type</c>).</summary>
public enum LossTermKind
{
    /// <summary>One value per batch element; the anchor of value i is element i unless anchors are given.</summary>
    Element,

    /// <summary>One value per positive pair; the anchor is the pair's first index.</summary>
    PositivePair,

    /// <summary>One value per negative pair; the anchor is the pair's first index.</summary>
    NegativePair,

    /// <summary>One value per triplet; the anchor is the triplet's anchor index.</summary>
    Triplet,

    /// <summary>A single value that is already the loss; reducers pass it through.</summary>
    AlreadyReduced,
}
