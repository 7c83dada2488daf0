using DeepRetrieval.Data;
using SkiaSharp;

namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>Renders queries beside their nearest neighbours, framing right answers green and wrong ones red.</summary>
internal static class ResultGrid
{
    private const int Scale = 3;
    private const int Gap = 6;

    public static void Write(string path, IdxImages queries, byte[] queryLabels, IdxImages references, byte[] referenceLabels,
        ReadOnlySpan<long> neighborIds, int k, int rows, int shown)
    {
        int cell = queries.Columns * Scale + Gap;
        int labelWidth = 120;
        using var surface = SKSurface.Create(new SKImageInfo(labelWidth + cell * (shown + 1) + Gap, cell * rows + Gap + 24));
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 13);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText("query", labelWidth + Gap, 16, font, text);
        canvas.DrawText($"top {shown} neighbours (green: same class, red: other class)", labelWidth + Gap + cell, 16, font, text);
        for (int r = 0; r < rows; r++)
        {
            int y = 24 + r * cell + Gap;
            canvas.DrawText(Data.FashionMnist.ClassNames[queryLabels[r]], 4, y + cell / 2, font, text);
            DrawImage(canvas, queries.GetImage(r), queries.Columns, labelWidth + Gap, y, SKColors.Gray);
            for (int j = 0; j < shown; j++)
            {
                long id = neighborIds[r * k + j];
                if (id < 0) break;
                SKColor frame = referenceLabels[id] == queryLabels[r] ? SKColors.ForestGreen : SKColors.Crimson;
                DrawImage(canvas, references.GetImage((int)id), references.Columns, labelWidth + Gap + cell * (j + 1), y, frame);
            }
        }
        using SKImage image = surface.Snapshot();
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        using FileStream file = File.Create(path);
        png.SaveTo(file);
    }

    private static void DrawImage(SKCanvas canvas, ReadOnlySpan<byte> pixels, int side, int x, int y, SKColor frame)
    {
        using var paint = new SKPaint { Color = frame, Style = SKPaintStyle.Stroke, StrokeWidth = 3 };
        canvas.DrawRect(x - 2, y - 2, side * Scale + 3, side * Scale + 3, paint);
        using var fill = new SKPaint();
        for (int py = 0; py < side; py++)
        {
            for (int px = 0; px < side; px++)
            {
                byte v = (byte)(255 - pixels[py * side + px]); // dark garments on white
                fill.Color = new SKColor(v, v, v);
                canvas.DrawRect(x + px * Scale, y + py * Scale, Scale, Scale, fill);
            }
        }
    }
}
