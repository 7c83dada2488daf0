namespace DeepRetrieval.Imaging.Visualization;

/// <summary>One row of a <see cref="ResultGrid"/>: a query and its ranked results.</summary>
/// <param name="Query">The query image.</param>
/// <param name="Results">The top-k results, best first.</param>
/// <param name="Label">Text left of the query (its class, its file name); null for none.</param>
public sealed record ResultGridRow(ResultGridCell Query, IReadOnlyList<ResultGridCell> Results, string? Label = null);
