namespace DeepRetrieval.Imaging.Visualization;

/// <summary>Line pattern of a <see cref="PlotCurve"/>.</summary>
public enum CurveStyle
{
    /// <summary>A solid line (ours, one query per call).</summary>
    Solid,

    /// <summary>A dashed line (ours, batched queries).</summary>
    Dashed,

    /// <summary>A dotted line (another library).</summary>
    Dotted,
}

/// <summary>Marker drawn at each point of a <see cref="PlotCurve"/>.</summary>
public enum CurveMarker
{
    /// <summary>A filled circle.</summary>
    Circle,

    /// <summary>A filled square.</summary>
    Square,

    /// <summary>A filled upward triangle.</summary>
    Triangle,
}

/// <summary>One measured point: recall (0–1) and queries per second.</summary>
/// <param name="Recall">Recall in [0, 1].</param>
/// <param name="Qps">Queries per second, positive.</param>
public readonly record struct RecallQpsPoint(double Recall, double Qps);

/// <summary>One curve of a <see cref="RecallQpsPlot"/>: an index (or another library) over its search parameters.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">The points; they are drawn in order of recall.</param>
public sealed record PlotCurve(string Name, IReadOnlyList<RecallQpsPoint> Points)
{
    /// <summary>Line pattern (default solid).</summary>
    public CurveStyle Style { get; init; } = CurveStyle.Solid;

    /// <summary>Point marker (default circle).</summary>
    public CurveMarker Marker { get; init; } = CurveMarker.Circle;

    /// <summary>Index into the Category10 palette; curves that share it share a colour (give an index's single-query
    /// and batched curves the same one). Null takes the next colour after the highest index any curve sets.</summary>
    public int? ColorIndex { get; init; }

    /// <summary>Another library's curve, drawn as ann-benchmarks peers are: dotted, with triangles.</summary>
    /// <param name="name">Legend text (e.g. "hnswlib").</param>
    /// <param name="points">The points.</param>
    public static PlotCurve Peer(string name, IReadOnlyList<RecallQpsPoint> points) =>
        new(name, points) { Style = CurveStyle.Dotted, Marker = CurveMarker.Triangle };
}
