namespace DeepRetrieval.Reranking;

/// <summary>Which way the scores of a <see cref="RankedLists"/> run.</summary>
public enum ScoreOrder
{
    /// <summary>Scores are distances: the first result has the smallest score.</summary>
    SmallerIsBetter,

    /// <summary>Scores are similarities: the first result has the largest score.</summary>
    LargerIsBetter,
}
