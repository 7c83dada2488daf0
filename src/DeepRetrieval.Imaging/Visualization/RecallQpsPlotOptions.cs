namespace DeepRetrieval.Imaging.Visualization;

/// <summary>Labels and size of a <see cref="RecallQpsPlot"/>.</summary>
public sealed record RecallQpsPlotOptions
{
    /// <summary>Title above the plot; null for none.</summary>
    public string? Title { get; init; }

    /// <summary>Horizontal axis label (default "Recall"; e.g. "Recall@10").</summary>
    public string XLabel { get; init; } = "Recall";

    /// <summary>Vertical axis label.</summary>
    public string YLabel { get; init; } = "Queries per second (log scale)";

    /// <summary>Image width in pixels (default 1000), 300 to 8000.</summary>
    public int Width { get; init; } = 1000;

    /// <summary>Image height in pixels (default 700), 200 to 8000.</summary>
    public int Height { get; init; } = 700;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Width, 300, nameof(Width));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Width, 8000, nameof(Width));
        ArgumentOutOfRangeException.ThrowIfLessThan(Height, 200, nameof(Height));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Height, 8000, nameof(Height));
        ArgumentNullException.ThrowIfNull(XLabel, nameof(XLabel));
        ArgumentNullException.ThrowIfNull(YLabel, nameof(YLabel));
    }
}
