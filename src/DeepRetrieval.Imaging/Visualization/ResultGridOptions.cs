namespace DeepRetrieval.Imaging.Visualization;

/// <summary>Layout of a <see cref="ResultGrid"/>.</summary>
public sealed record ResultGridOptions
{
    /// <summary>Side of each thumbnail square in pixels (default 128), 8 to 1024.</summary>
    public int ThumbnailSize { get; init; } = 128;

    /// <summary>Space between thumbnails (default 10).</summary>
    public int Gap { get; init; } = 10;

    /// <summary>Heading above the grid; null gives "query" and "top k results (green: match, red: no match)".</summary>
    public string? Title { get; init; }

    /// <summary>Text size in pixels (default 13).</summary>
    public float FontSize { get; init; } = 13;

    /// <summary>Most results shown per row (default all given).</summary>
    public int? MaxResults { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ThumbnailSize, 8, nameof(ThumbnailSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ThumbnailSize, 1024, nameof(ThumbnailSize));
        ArgumentOutOfRangeException.ThrowIfNegative(Gap, nameof(Gap));
        if (!(FontSize is > 0 and <= 200))
            throw new ArgumentOutOfRangeException(nameof(FontSize), FontSize, "Font sizes are between 0 and 200.");
        if (MaxResults is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxResults), MaxResults, "Show at least one result.");
    }
}
