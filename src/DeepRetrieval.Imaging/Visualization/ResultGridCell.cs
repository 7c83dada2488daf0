namespace DeepRetrieval.Imaging.Visualization;

/// <summary>One thumbnail of a <see cref="ResultGrid"/>.</summary>
/// <param name="Image">The picture (any size and format; it is fitted into the thumbnail square).</param>
/// <param name="Caption">Text under the thumbnail (a class name, a distance, a file name); null for none.</param>
/// <param name="IsMatch">True frames it green (a right answer), false red (a wrong one), null grey (the query, or unjudged).</param>
public sealed record ResultGridCell(PixelImage Image, string? Caption = null, bool? IsMatch = null);
