using System.Globalization;
using SkiaSharp;

namespace DeepRetrieval.Imaging.Visualization;

/// <summary>
/// Recall (x) against queries per second (y, log scale, labelled whole decades with minor ticks) as ann-benchmarks
/// draws it: one coloured line per curve through its points ordered by recall, a legend in the lower left, other
/// libraries' curves (<see cref="PlotCurve.Peer"/>) dotted with triangles. Text needs a font (fonts-dejavu-core on
/// Debian); without one the plot is drawn without text.
/// </summary>
public static class RecallQpsPlot
{
    private const float MarginLeft = 90, MarginRight = 30, MarginTop = 50, MarginBottom = 60;

    /// <summary>Renders the plot into an RGBA image.</summary>
    /// <param name="curves">The curves, at least one with a point.</param>
    /// <param name="options">Labels and size; null for the defaults.</param>
    /// <exception cref="ArgumentException">No curve has points, or a point is out of range.</exception>
    public static PixelImage Render(IReadOnlyList<PlotCurve> curves, RecallQpsPlotOptions? options = null)
    {
        options ??= new RecallQpsPlotOptions();
        using SKSurface surface = Draw(curves, options);
        return Drawing.ToPixelImage(surface, options.Width, options.Height);
    }

    /// <summary>Writes the plot as a PNG to a stream.</summary>
    /// <param name="output">The stream.</param>
    /// <param name="curves">The curves.</param>
    /// <param name="options">Labels and size; null for the defaults.</param>
    public static void Write(Stream output, IReadOnlyList<PlotCurve> curves, RecallQpsPlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        using SKSurface surface = Draw(curves, options ?? new RecallQpsPlotOptions());
        Drawing.WritePng(surface, output);
    }

    /// <summary>Saves the plot as a PNG file (written atomically; the folder is created).</summary>
    /// <param name="path">The PNG file.</param>
    /// <param name="curves">The curves.</param>
    /// <param name="options">Labels and size; null for the defaults.</param>
    public static void Save(string path, IReadOnlyList<PlotCurve> curves, RecallQpsPlotOptions? options = null)
    {
        using SKSurface surface = Draw(curves, options ?? new RecallQpsPlotOptions());
        Drawing.SavePng(path, stream => Drawing.WritePng(surface, stream));
    }

    private static SKSurface Draw(IReadOnlyList<PlotCurve> curves, RecallQpsPlotOptions options)
    {
        ArgumentNullException.ThrowIfNull(curves);
        options.Validate();
        foreach (PlotCurve curve in curves)
        {
            ArgumentNullException.ThrowIfNull(curve, nameof(curves));
            ArgumentNullException.ThrowIfNull(curve.Points, nameof(curves));
            foreach (RecallQpsPoint p in curve.Points)
                if (!(p.Recall is >= 0 and <= 1) || !double.IsFinite(p.Qps) || !(p.Qps > 0))
                    throw new ArgumentException(
                        $"Curve \"{curve.Name}\" has point (recall {p.Recall}, QPS {p.Qps}); recall must be in [0, 1] and QPS positive.", nameof(curves));
        }
        RecallQpsPoint[] all = [.. curves.SelectMany(c => c.Points)];
        if (all.Length == 0)
            throw new ArgumentException("A recall/QPS plot needs at least one point.", nameof(curves));

        int width = options.Width, height = options.Height;
        double xMin = Math.Max(0, Math.Floor((all.Min(p => p.Recall) - 0.05) * 20) / 20), xMax = 1.01;
        double yMin = Math.Floor(Math.Log10(all.Min(p => p.Qps)));
        double yMax = Math.Max(Math.Ceiling(Math.Log10(all.Max(p => p.Qps))), yMin + 1);
        var area = new SKRect(MarginLeft, MarginTop, width - MarginRight, height - MarginBottom);
        float X(double recall) => area.Left + (float)((recall - xMin) / (xMax - xMin)) * area.Width;
        float Y(double qps) => area.Bottom - (float)((Math.Log10(qps) - yMin) / (yMax - yMin)) * area.Height;

        SKSurface surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width} × {height} surface.");
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using SKFont font = Drawing.Font(14), titleFont = Drawing.Font(17);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var major = new SKPaint { Color = new SKColor(0, 0, 0, 38), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var minor = new SKPaint { Color = new SKColor(0, 0, 0, 13), StrokeWidth = 1, Style = SKPaintStyle.Stroke };

        // Vertical axis: whole decades labelled, 2–9 × decade as minor lines.
        for (int decade = (int)yMin; decade <= (int)yMax; decade++)
        {
            double value = Math.Pow(10, decade);
            float y = Y(value);
            canvas.DrawLine(area.Left, y, area.Right, y, major);
            canvas.DrawLine(area.Left - 5, y, area.Left, y, axis);
            Drawing.Text(canvas, value.ToString("N0", CultureInfo.InvariantCulture), area.Left - 8, y + 5, SKTextAlign.Right, font, text);
            if (decade == (int)yMax)
                break;
            for (int m = 2; m <= 9; m++)
            {
                float ym = Y(m * value);
                canvas.DrawLine(area.Left, ym, area.Right, ym, minor);
                canvas.DrawLine(area.Left - 3, ym, area.Left, ym, axis);
            }
        }
        // Horizontal axis: ticks every 0.05 or 0.1.
        double step = xMax - xMin > 0.5 ? 0.1 : 0.05;
        for (double tick = Math.Ceiling(xMin / step - 1e-9) * step; tick <= 1.0 + 1e-9; tick += step)
        {
            float x = X(tick);
            canvas.DrawLine(x, area.Top, x, area.Bottom, major);
            canvas.DrawLine(x, area.Bottom, x, area.Bottom + 5, axis);
            Drawing.Text(canvas, tick.ToString("0.00", CultureInfo.InvariantCulture), x, area.Bottom + 20, SKTextAlign.Center, font, text);
        }
        canvas.DrawRect(area, axis);
        Drawing.Text(canvas, options.XLabel, area.MidX, height - 15, SKTextAlign.Center, font, text);
        Drawing.VerticalText(canvas, options.YLabel, 22, area.MidY, font, text);
        if (options.Title is { } title)
            Drawing.Text(canvas, title, area.MidX, MarginTop - 18, SKTextAlign.Center, titleFont, text);

        // Curves, clipped to the plot area, then the legend on top.
        var colours = new SKColor[curves.Count];
        int nextColour = curves.Where(c => c.ColorIndex is not null).Select(c => c.ColorIndex!.Value + 1).DefaultIfEmpty(0).Max();
        for (int i = 0; i < curves.Count; i++)
            colours[i] = Drawing.Palette(curves[i].ColorIndex ?? nextColour++);
        canvas.Save();
        canvas.ClipRect(area);
        for (int i = 0; i < curves.Count; i++)
        {
            using SKPaint line = LinePaint(curves[i].Style, colours[i]);
            using var fill = new SKPaint { Color = colours[i], Style = SKPaintStyle.Fill, IsAntialias = true };
            RecallQpsPoint[] points = [.. curves[i].Points.OrderBy(p => p.Recall)];
            using var path = new SKPath();
            for (int p = 0; p < points.Length; p++)
            {
                var at = new SKPoint(X(points[p].Recall), Y(points[p].Qps));
                if (p == 0) path.MoveTo(at);
                else path.LineTo(at);
            }
            canvas.DrawPath(path, line);
            foreach (RecallQpsPoint p in points)
                DrawMarker(canvas, curves[i].Marker, X(p.Recall), Y(p.Qps), fill);
        }
        canvas.Restore();

        if (Drawing.HasFont && curves.Count > 0)
        {
            float rowHeight = 20, legendWidth = 60 + curves.Max(c => Drawing.Measure(c.Name ?? "", font));
            var box = new SKRect(area.Left + 10, area.Bottom - 10 - rowHeight * curves.Count - 8, area.Left + 10 + legendWidth, area.Bottom - 10);
            using var background = new SKPaint { Color = new SKColor(255, 255, 255, 230), Style = SKPaintStyle.Fill };
            canvas.DrawRect(box, background);
            canvas.DrawRect(box, axis);
            for (int i = 0; i < curves.Count; i++)
            {
                float y = box.Top + 4 + rowHeight * (i + 0.5f);
                using SKPaint line = LinePaint(curves[i].Style, colours[i]);
                using var fill = new SKPaint { Color = colours[i], Style = SKPaintStyle.Fill, IsAntialias = true };
                canvas.DrawLine(box.Left + 8, y, box.Left + 44, y, line);
                DrawMarker(canvas, curves[i].Marker, box.Left + 26, y, fill);
                Drawing.Text(canvas, curves[i].Name ?? "", box.Left + 52, y + 5, SKTextAlign.Left, font, text);
            }
        }
        return surface;
    }

    private static SKPaint LinePaint(CurveStyle style, SKColor colour)
    {
        var paint = new SKPaint { Color = colour, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
        paint.PathEffect = style switch
        {
            CurveStyle.Dashed => SKPathEffect.CreateDash([8, 5], 0),
            CurveStyle.Dotted => SKPathEffect.CreateDash([2, 4], 0),
            _ => null,
        };
        return paint;
    }

    private static void DrawMarker(SKCanvas canvas, CurveMarker marker, float x, float y, SKPaint fill)
    {
        const float r = 4.5f;
        switch (marker)
        {
            case CurveMarker.Square:
                canvas.DrawRect(x - r, y - r, 2 * r, 2 * r, fill);
                break;
            case CurveMarker.Triangle:
                using (var path = new SKPath())
                {
                    path.MoveTo(x, y - r - 1);
                    path.LineTo(x + r + 1, y + r);
                    path.LineTo(x - r - 1, y + r);
                    path.Close();
                    canvas.DrawPath(path, fill);
                }
                break;
            default:
                canvas.DrawCircle(x, y, r, fill);
                break;
        }
    }
}
