namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>The annotation of one revisited Oxford/Paris query: its image, crop box, and easy, hard and junk images.</summary>
/// <param name="Name">The query image's name (without extension), from <c>qimlist</c>.</param>
/// <param name="BoundingBox">The query region (x1, y1, x2, y2) in pixels of the full image, from <c>bbx</c>.</param>
/// <param name="Easy">Database positions of the easy positives.</param>
/// <param name="Hard">Database positions of the hard positives.</param>
/// <param name="Junk">Database positions of the junk images.</param>
public sealed record RevisitedQuery(string Name, QueryBoundingBox BoundingBox, IReadOnlyList<int> Easy, IReadOnlyList<int> Hard, IReadOnlyList<int> Junk)
{
    /// <summary>The positives and junk of this query under one protocol, as revisitop's <c>example_evaluate.py</c> builds them.</summary>
    /// <param name="setting">Easy, Medium or Hard.</param>
    public QueryJudgments JudgmentsFor(RevisitedSetting setting) => setting switch
    {
        RevisitedSetting.Easy => new QueryJudgments(Easy, [.. Junk, .. Hard]),
        RevisitedSetting.Medium => new QueryJudgments([.. Easy, .. Hard], Junk),
        RevisitedSetting.Hard => new QueryJudgments(Hard, [.. Junk, .. Easy]),
        _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, "Unknown revisited setting."),
    };
}
