using DeepRetrieval.Torch.Training;
using ScottPlot;

namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>
/// Draws the loss of every step and the validation Precision@1 and MAP@R of every epoch on one epoch axis, so a run of one
/// or two epochs still shows a curve (the library's <see cref="TrainingHistory.SavePlot"/> draws per-epoch values only).
/// </summary>
internal static class TrainingCurve
{
    public static void Write(string path, string title, IReadOnlyList<TrainingProgress> steps, TrainingHistory history)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("epoch");
        plot.Axes.Left.Label.Text = "training loss (per step)";
        plot.Axes.Right.Label.Text = "test-set retrieval (leave-one-out)";

        double[] stepX = steps.Select(s => s.Epoch - 1 + (double)s.Batch / s.BatchCount).ToArray();
        double[] stepLoss = steps.Select(s => double.IsFinite(s.Loss) ? s.Loss : double.NaN).ToArray();
        var loss = plot.Add.ScatterLine(stepX, stepLoss);
        loss.LegendText = "loss";
        loss.LineWidth = 1;

        double[] epochX = history.Epochs.Select(e => (double)e.Epoch).ToArray();
        foreach (var (name, values) in new[] { ("Precision@1", history.Epochs.Select(e => e.PrecisionAt1)), ("MAP@R", history.Epochs.Select(e => e.MapAtR)) })
        {
            var metric = plot.Add.Scatter(epochX, values.ToArray());
            metric.LegendText = name;
            metric.LineWidth = 2;
            metric.MarkerSize = 8;
            metric.Axes.YAxis = plot.Axes.Right;
        }
        plot.Axes.SetLimitsY(0, 1, plot.Axes.Right);
        plot.Axes.SetLimitsX(0, Math.Max(1, epochX.Length) + 0.05);
        plot.ShowLegend(Alignment.UpperCenter);
        plot.SavePng(path, 900, 540);
    }
}
