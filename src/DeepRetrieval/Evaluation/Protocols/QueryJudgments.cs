namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>
/// What one query of an instance-retrieval benchmark counts as right: the database positions of its positives, and
/// of its junk images, which are removed from the ranking before scoring (neither right nor wrong).
/// </summary>
/// <param name="Positives">Database positions that are correct results.</param>
/// <param name="Junk">Database positions that are ignored (for example the query image itself, or "junk" annotations).</param>
public sealed record QueryJudgments(IReadOnlyList<int> Positives, IReadOnlyList<int> Junk)
{
    /// <summary>Judgments with positives only.</summary>
    /// <param name="positives">Database positions that are correct results.</param>
    public QueryJudgments(IReadOnlyList<int> positives) : this(positives, []) { }
}
