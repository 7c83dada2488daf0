using System.Globalization;
using ScottPlot;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// Recall (x) against queries per second (y, log scale) as ann-benchmarks draws it: one colour per index description,
/// a solid line for one-query-at-a-time QPS and a dashed line for batched QPS, points ordered by recall; other
/// libraries' curves (<see cref="PeerCurve"/>) dotted, with triangles.
/// </summary>
internal static class RecallPlot
{
    // Debian's fonts-dejavu-core; Skia's default family there resolves to a serif face.
    private const string FontName = "DejaVu Sans";

    public static void Save(string path, IReadOnlyList<ResultRow> rows, IReadOnlyList<PeerCurve> peers, string title, int k)
    {
        var plot = new Plot();
        plot.Font.Set(FontName); // keeps ScottPlot's default when the font is not installed
        IPalette palette = new ScottPlot.Palettes.Category10();
        double minRecall = 1, minQps = double.MaxValue, maxQps = 0;
        int colour = 0;
        foreach (IGrouping<string, ResultRow> group in rows.GroupBy(r => r.Index))
        {
            ResultRow[] points = [.. group.OrderBy(r => r.Recall)];
            Color color = palette.GetColor(colour++);
            minRecall = Math.Min(minRecall, points.Min(p => p.Recall));
            foreach (double qps in points.Select(p => p.BatchQps).Concat(points.Where(p => p.Qps is not null).Select(p => p.Qps!.Value)))
            {
                minQps = Math.Min(minQps, qps);
                maxQps = Math.Max(maxQps, qps);
            }

            ResultRow[] single = [.. points.Where(p => p.Qps is not null)];
            if (single.Length > 0)
                AddLine(plot, group.Key, color, LinePattern.Solid, MarkerShape.FilledCircle,
                    single.Select(p => p.Recall), single.Select(p => p.Qps!.Value));
            AddLine(plot, $"{group.Key} (batch)", color, LinePattern.Dashed, MarkerShape.FilledSquare,
                points.Select(p => p.Recall), points.Select(p => p.BatchQps));
        }
        foreach (PeerCurve peer in peers)
        {
            var points = peer.Points.OrderBy(p => p.Recall).ToArray();
            minRecall = Math.Min(minRecall, points.Min(p => p.Recall));
            minQps = Math.Min(minQps, points.Min(p => p.Qps));
            maxQps = Math.Max(maxQps, points.Max(p => p.Qps));
            AddLine(plot, peer.Name, palette.GetColor(colour++), LinePattern.Dotted, MarkerShape.FilledTriangleUp,
                points.Select(p => p.Recall), points.Select(p => p.Qps));
        }

        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
        plot.Grid.MinorLineWidth = 1;

        plot.Title(title);
        plot.XLabel($"Recall@{k}");
        plot.YLabel("Queries per second (log scale)");
        plot.ShowLegend(Alignment.LowerLeft);
        // Whole decades on the QPS axis, so it always shows labelled ticks.
        plot.Axes.SetLimits(Math.Max(0, minRecall - 0.05), 1.01,
            Math.Floor(Math.Log10(minQps)), Math.Max(Math.Ceiling(Math.Log10(maxQps)), Math.Floor(Math.Log10(minQps)) + 1));

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        plot.SavePng(path, 1000, 700);
    }

    private static void AddLine(Plot plot, string label, Color color, LinePattern pattern, MarkerShape marker,
        IEnumerable<double> recall, IEnumerable<double> qps)
    {
        double[] xs = [.. recall];
        double[] ys = [.. qps.Select(Math.Log10)];
        var scatter = plot.Add.Scatter(xs, ys, color);
        scatter.LegendText = label;
        scatter.LinePattern = pattern;
        scatter.LineWidth = 2;
        scatter.MarkerShape = marker;
        scatter.MarkerSize = 8;
    }
}
