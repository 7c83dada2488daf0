namespace DeepRetrieval.Reranking;

/// <summary>Where query expansion looks for results with the expanded query.</summary>
public enum QueryExpansionSearch
{
    /// <summary>Searches the whole database again (as in the papers); the output can be wider than the input.</summary>
    Database,

    /// <summary>Only re-scores the ids already in each list (no second search; cheaper, cannot bring in new results).</summary>
    Shortlist,
}
