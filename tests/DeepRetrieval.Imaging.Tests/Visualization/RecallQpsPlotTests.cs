using DeepRetrieval.Imaging.Visualization;

namespace DeepRetrieval.Imaging.Tests.Visualization;

public sealed class RecallQpsPlotTests
{
    [Fact]
    public void Render_PlacesPointsOnALogQpsAxis()
    {
        // Recall 0.5 … 0.9 → x from 0.45 to 1.01; QPS 100 … 1000 → y over the decades 10² … 10³.
        PlotCurve[] curves =
        [
            new("HNSW32", [new(0.5, 100), new(0.7, Math.Sqrt(10) * 100), new(0.9, 1000)]),
            PlotCurve.Peer("hnswlib", [new(0.6, 200), new(0.8, 400)]),
        ];
        var options = new RecallQpsPlotOptions { Width = 1000, Height = 700, Title = "test", XLabel = "Recall@10" };
        PixelImage plot = RecallQpsPlot.Render(curves, options);
        (plot.Width, plot.Height).Should().Be((1000, 700));

        // Plot area (90, 50)–(970, 640); recall 0.7 and QPS 10^2.5 sit at its horizontal 0.446 and vertical middle.
        float x = 90 + (float)((0.7 - 0.45) / (1.01 - 0.45)) * 880, y = 50 + 590 / 2f;
        int at = ((int)Math.Round(y) * 1000 + (int)Math.Round(x)) * 4;
        (plot.Pixels[at], plot.Pixels[at + 1], plot.Pixels[at + 2]).Should().Be(((byte)31, (byte)119, (byte)180), "the first curve is Category10 blue");
    }

    [Fact]
    public void Save_WritesAPng_AndBadPointsAreRejected()
    {
        string folder = Directory.CreateTempSubdirectory("imaging-plot-").FullName;
        try
        {
            string path = Path.Combine(folder, "plot.png");
            RecallQpsPlot.Save(path, [new PlotCurve("IVF", [new(0.95, 5000)]) { Style = CurveStyle.Dashed, Marker = CurveMarker.Square }]);
            ImageDecoder.Identify(path).StoredSize.Should().Be(new ImageSize(1000, 700));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        ((Action)(() => RecallQpsPlot.Render([new PlotCurve("x", [])]))).Should().Throw<ArgumentException>().WithMessage("*at least one point*");
        ((Action)(() => RecallQpsPlot.Render([new PlotCurve("x", [new(1.5, 10)])]))).Should().Throw<ArgumentException>().WithMessage("*recall must be in [0, 1]*");
        ((Action)(() => RecallQpsPlot.Render([new PlotCurve("x", [new(0.5, 0)])]))).Should().Throw<ArgumentException>();
    }
}

[Collection(nameof(NoFontCollection))]
public sealed class NoFontTests
{
    [Fact]
    public void Figures_AreDrawnWithoutText_WhenNoFontIsInstalled()
    {
        Drawing.SimulateNoFont = true;
        try
        {
            var cell = new ResultGridCell(new PixelImage(20, 10, PixelFormat.Gray8), "caption", true);
            PixelImage grid = ResultGrid.Render([new ResultGridRow(cell, [cell], "label")]);
            grid.Width.Should().BeGreaterThan(0);
            PixelImage plot = RecallQpsPlot.Render([new PlotCurve("curve", [new(0.9, 100)])], new RecallQpsPlotOptions { Title = "t" });
            plot.Width.Should().Be(1000);
        }
        finally
        {
            Drawing.SimulateNoFont = false;
        }
    }
}

[CollectionDefinition(nameof(NoFontCollection), DisableParallelization = true)]
public sealed class NoFontCollection;
