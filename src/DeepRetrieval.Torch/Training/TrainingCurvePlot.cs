using System.Globalization;
using SkiaSharp;

namespace DeepRetrieval.Torch.Training;

/// <summary>Draws a <see cref="TrainingHistory"/> with SkiaSharp: loss on the left axis, MAP@R and P@1 (0..1) on the right.</summary>
internal static class TrainingCurvePlot
{
    private const float Left = 70, Right = 70, Top = 40, Bottom = 55;

    public static void Write(TrainingHistory history, Stream output, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 200);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 150);
        var epochs = history.Epochs;
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var typeface = SKTypeface.Default;
        using var font = new SKFont(typeface, 13);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1, Style = SKPaintStyle.Stroke };

        var plot = new SKRect(Left, Top, width - Right, height - Bottom);
        int lastEpoch = Math.Max(1, epochs.Count == 0 ? 1 : epochs.Max(e => e.Epoch));
        int firstEpoch = epochs.Count == 0 ? 1 : Math.Min(epochs.Min(e => e.Epoch), lastEpoch);
        double[] losses = epochs.Select(e => e.TrainLoss).Where(double.IsFinite).ToArray();
        double lossMax = losses.Length == 0 ? 1 : losses.Max();
        double lossMin = losses.Length == 0 ? 0 : Math.Min(0, losses.Min());
        if (lossMax <= lossMin) lossMax = lossMin + 1;

        float X(double epoch) => lastEpoch == firstEpoch
            ? plot.MidX
            : plot.Left + (float)((epoch - firstEpoch) / (lastEpoch - firstEpoch)) * plot.Width;
        float YLoss(double v) => plot.Bottom - (float)((v - lossMin) / (lossMax - lossMin)) * plot.Height;
        float YMetric(double v) => plot.Bottom - (float)v * plot.Height;

        // Ticks: five on each vertical axis, at most ten on the epoch axis.
        for (int i = 0; i <= 5; i++)
        {
            float y = plot.Bottom - i * plot.Height / 5;
            canvas.DrawLine(plot.Left, y, plot.Right, y, grid);
            canvas.DrawLine(plot.Left - 5, y, plot.Left, y, axis);
            canvas.DrawLine(plot.Right, y, plot.Right + 5, y, axis);
            string lossLabel = (lossMin + i * (lossMax - lossMin) / 5).ToString("G3", CultureInfo.InvariantCulture);
            DrawText(canvas, lossLabel, plot.Left - 8, y + 4, SKTextAlign.Right, font, text);
            DrawText(canvas, (i / 5.0).ToString("0.0", CultureInfo.InvariantCulture), plot.Right + 8, y + 4, SKTextAlign.Left, font, text);
        }
        int span = lastEpoch - firstEpoch;
        int stride = Math.Max(1, (int)Math.Ceiling(span / 10.0));
        for (int epoch = firstEpoch; epoch <= lastEpoch; epoch += stride)
        {
            float x = X(epoch);
            canvas.DrawLine(x, plot.Bottom, x, plot.Bottom + 5, axis);
            DrawText(canvas, epoch.ToString(CultureInfo.InvariantCulture), x, plot.Bottom + 19, SKTextAlign.Center, font, text);
        }
        canvas.DrawRect(plot, axis);
        DrawText(canvas, "epoch", plot.MidX, height - 12, SKTextAlign.Center, font, text);
        DrawVertical(canvas, "train loss", 16, plot.MidY, font, text);
        DrawVertical(canvas, "validation metric", width - 14, plot.MidY, font, text);

        var series = new (string Name, SKColor Color, Func<EpochRecord, double> Value, Func<double, float> Y)[]
        {
            ("train loss", new SKColor(31, 119, 180), e => e.TrainLoss, YLoss),
            ("MAP@R", new SKColor(214, 39, 40), e => e.MapAtR, YMetric),
            ("P@1", new SKColor(44, 160, 44), e => e.PrecisionAt1, YMetric),
        };
        for (int s = 0; s < series.Length; s++)
        {
            var (name, color, value, y) = series[s];
            using var line = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var dot = new SKPaint { Color = color, IsAntialias = true, Style = SKPaintStyle.Fill };
            using var path = new SKPath();
            bool open = false;
            foreach (var e in epochs)
            {
                double v = value(e);
                if (!double.IsFinite(v))
                {
                    open = false;
                    continue;
                }
                var point = new SKPoint(X(e.Epoch), y(v));
                if (open) path.LineTo(point);
                else path.MoveTo(point);
                open = true;
                canvas.DrawCircle(point, 3, dot);
            }
            canvas.DrawPath(path, line);
            // Legend, top left inside the plot.
            float legendY = plot.Top + 16 + s * 18;
            canvas.DrawLine(plot.Left + 10, legendY - 4, plot.Left + 34, legendY - 4, line);
            DrawText(canvas, name, plot.Left + 40, legendY, SKTextAlign.Left, font, text);
        }
        DrawText(canvas, "Training curves", plot.MidX, Top - 14, SKTextAlign.Center, font, text);

        using SKImage image = surface.Snapshot();
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        data.SaveTo(output);
    }

    private static void DrawText(SKCanvas canvas, string label, float x, float y, SKTextAlign align, SKFont font, SKPaint paint)
    {
        canvas.DrawText(label, x, y, align, font, paint);
    }

    private static void DrawVertical(SKCanvas canvas, string label, float x, float y, SKFont font, SKPaint paint)
    {
        canvas.Save();
        canvas.RotateDegrees(-90, x, y);
        DrawText(canvas, label, x, y, SKTextAlign.Center, font, paint);
        canvas.Restore();
    }
}
