namespace DeepRetrieval.Torch.Data;

/// <summary>
/// The layout of a CSV file listing images for <see cref="ImageFileSet.FromCsv"/>: one image per row, a path column and an
/// optional label column, fields separated by <see cref="Delimiter"/> and quoted as RFC 4180 says (a field in double quotes may
/// hold the delimiter, and <c>""</c> stands for one quote).
/// </summary>
public sealed record ImageCsvFormat
{
    /// <summary>The field separator (default ',').</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>
    /// Whether the first row names the columns (default true). With a header the columns are found by
    /// <see cref="PathColumn"/> and <see cref="LabelColumn"/> (case-insensitive); without one the path is the first field and
    /// the label, when <see cref="LabelColumn"/> is not null, the second.
    /// </summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>Name of the column holding the image paths (default "path").</summary>
    public string PathColumn { get; init; } = "path";

    /// <summary>Name of the column holding the labels (default "label"); null when the file has no labels.</summary>
    public string? LabelColumn { get; init; } = "label";

    /// <summary>Folder that relative paths are resolved against; null for the CSV file's own folder.</summary>
    public string? BaseFolder { get; init; }
}
