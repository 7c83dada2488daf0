using DeepRetrieval.Samples.CopyDetection.Evaluation;
using ScottPlot;

namespace DeepRetrieval.Samples.CopyDetection.Reports;

/// <summary>
/// Precision against recall along each method's ISC 2021 list of (copy, reference) pairs, one curve per method, with the
/// μAP in the legend (the area under each curve). Drawn with ScottPlot: the image package's <c>RecallQpsPlot</c> has a
/// log-scale speed axis, not a linear precision axis.
/// </summary>
internal static class PrecisionRecallPlot
{
    public static void Save(string path, string title, IReadOnlyList<MethodResult> methods)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("recall (share of true (copy, original) pairs found)");
        plot.YLabel("precision");
        foreach (MethodResult method in methods)
        {
            double[] recall = [0, .. method.Curve.Select(p => p.Recall)];
            double[] precision = [method.Curve.Count > 0 ? method.Curve[0].Precision : 1, .. method.Curve.Select(p => p.Precision)];
            var line = plot.Add.ScatterLine(recall, precision);
            line.LegendText = FormattableString.Invariant($"{method.Method} (μAP {method.MicroAveragePrecision:F3})");
            line.LineWidth = 2;
        }
        plot.Axes.SetLimits(0, 1.02, 0, 1.02);
        plot.ShowLegend(Alignment.LowerLeft);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        plot.SavePng(path, 900, 600);
    }
}
