using DeepRetrieval.Imaging.Processing;
using SkiaSharp;

namespace DeepRetrieval.Imaging.Visualization;

/// <summary>
/// Draws queries beside their ranked results, one row per query: the query in a grey frame, each result framed green
/// (match) or red (no match) with an optional caption, a label left of each row. Thumbnails keep their aspect ratio;
/// images smaller than half the thumbnail are enlarged with nearest neighbour so small images (Fashion-MNIST) stay crisp,
/// others are resized with PIL's antialiased bilinear. Text needs a font (fonts-dejavu-core on Debian); without one the
/// grid is drawn without text.
/// </summary>
public static class ResultGrid
{
    private static readonly SKColor MatchColor = new(34, 139, 34), MissColor = new(220, 20, 60), NeutralColor = new(128, 128, 128);

    /// <summary>Renders the grid into an RGBA image.</summary>
    /// <param name="rows">One row per query.</param>
    /// <param name="options">Layout; null for the defaults.</param>
    /// <exception cref="ArgumentException">There are no rows.</exception>
    public static PixelImage Render(IReadOnlyList<ResultGridRow> rows, ResultGridOptions? options = null)
    {
        using Surface drawn = Draw(rows, options);
        return Drawing.ToPixelImage(drawn.Canvas, drawn.Width, drawn.Height);
    }

    /// <summary>Writes the grid as a PNG to a stream.</summary>
    /// <param name="output">The stream.</param>
    /// <param name="rows">One row per query.</param>
    /// <param name="options">Layout; null for the defaults.</param>
    public static void Write(Stream output, IReadOnlyList<ResultGridRow> rows, ResultGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        using Surface drawn = Draw(rows, options);
        Drawing.WritePng(drawn.Canvas, output);
    }

    /// <summary>Saves the grid as a PNG file (written atomically; the folder is created).</summary>
    /// <param name="path">The PNG file.</param>
    /// <param name="rows">One row per query.</param>
    /// <param name="options">Layout; null for the defaults.</param>
    public static void Save(string path, IReadOnlyList<ResultGridRow> rows, ResultGridOptions? options = null)
    {
        using Surface drawn = Draw(rows, options);
        Drawing.SavePng(path, stream => Drawing.WritePng(drawn.Canvas, stream));
    }

    private sealed class Surface(SKSurface canvas, int width, int height) : IDisposable
    {
        public SKSurface Canvas { get; } = canvas;

        public int Width { get; } = width;

        public int Height { get; } = height;

        public void Dispose() => Canvas.Dispose();
    }

    private static Surface Draw(IReadOnlyList<ResultGridRow> rows, ResultGridOptions? options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
            throw new ArgumentException("A result grid needs at least one row.", nameof(rows));
        options ??= new ResultGridOptions();
        options.Validate();
        foreach (ResultGridRow row in rows)
        {
            ArgumentNullException.ThrowIfNull(row, nameof(rows));
            ArgumentNullException.ThrowIfNull(row.Query, nameof(rows));
            ArgumentNullException.ThrowIfNull(row.Results, nameof(rows));
        }

        using SKFont font = Drawing.Font(options.FontSize);
        int thumb = options.ThumbnailSize, gap = options.Gap;
        int shown = Math.Min(rows.Max(r => r.Results.Count), options.MaxResults ?? int.MaxValue);
        bool captions = rows.Any(r => r.Query.Caption is not null || r.Results.Any(c => c.Caption is not null));
        int captionHeight = captions ? (int)Math.Ceiling(options.FontSize * 1.4f) : 0;
        int labelWidth = rows.Any(r => r.Label is not null)
            ? (int)Math.Ceiling(rows.Max(r => Drawing.Measure(r.Label ?? "", font))) + gap
            : 0;
        int header = (int)Math.Ceiling(options.FontSize * 2f);
        int cell = thumb + gap, rowHeight = thumb + captionHeight + gap;
        int width = labelWidth + gap + cell * (shown + 1) + gap;
        int height = header + rowHeight * rows.Count + gap;

        SKSurface surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width} × {height} surface.");
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        float baseline = header - options.FontSize * 0.6f;
        int firstX = labelWidth + gap;
        if (options.Title is { } title)
            Drawing.Text(canvas, title, firstX, baseline, SKTextAlign.Left, font, text);
        else
        {
            Drawing.Text(canvas, "query", firstX, baseline, SKTextAlign.Left, font, text);
            Drawing.Text(canvas, $"top {shown} results (green: match, red: no match)", firstX + cell, baseline, SKTextAlign.Left, font, text);
        }

        for (int r = 0; r < rows.Count; r++)
        {
            ResultGridRow row = rows[r];
            int y = header + r * rowHeight;
            if (row.Label is { } label)
                Drawing.Text(canvas, label, gap, y + thumb / 2f + options.FontSize / 2f, SKTextAlign.Left, font, text);
            DrawCell(canvas, row.Query, firstX, y, thumb, font, text);
            for (int j = 0; j < Math.Min(shown, row.Results.Count); j++)
                DrawCell(canvas, row.Results[j] ?? throw new ArgumentException($"Row {r} has a null result.", nameof(rows)),
                    firstX + cell * (j + 1), y, thumb, font, text);
        }
        return new Surface(surface, width, height);
    }

    private static void DrawCell(SKCanvas canvas, ResultGridCell cell, int x, int y, int size, SKFont font, SKPaint text)
    {
        PixelImage image = cell.Image ?? throw new ArgumentException("A grid cell has no image.", nameof(cell));
        // Fit inside the square, centred.
        ImageSize fitted = Resizing.FitSize(new ImageSize(image.Width, image.Height), size, size);
        bool enlarge = fitted.Width >= 2 * image.Width;
        PixelImage thumbnail = enlarge || (fitted.Width == image.Width && fitted.Height == image.Height)
            ? image
            : image.Resize(fitted, ResizeFilter.Bilinear);
        using SKImage picture = Drawing.ToSkImage(thumbnail);
        float left = x + (size - fitted.Width) / 2f, top = y + (size - fitted.Height) / 2f;
        var sampling = enlarge ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear);
        canvas.DrawImage(picture, new SKRect(left, top, left + fitted.Width, top + fitted.Height), sampling);

        SKColor frameColor = cell.IsMatch switch { true => MatchColor, false => MissColor, null => NeutralColor };
        using var frame = new SKPaint { Color = frameColor, Style = SKPaintStyle.Stroke, StrokeWidth = 3 };
        canvas.DrawRect(x - 2, y - 2, size + 3, size + 3, frame);
        if (cell.Caption is { } caption)
            Drawing.Text(canvas, Ellipsize(caption, size, font), x + size / 2f, y + size + font.Size * 1.2f, SKTextAlign.Center, font, text);
    }

    private static string Ellipsize(string caption, int width, SKFont font)
    {
        if (Drawing.Measure(caption, font) <= width)
            return caption;
        for (int length = caption.Length - 1; length > 0; length--)
        {
            string shortened = caption[..length] + "…";
            if (Drawing.Measure(shortened, font) <= width)
                return shortened;
        }
        return "…";
    }
}
