using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Imaging.Visualization;

namespace DeepRetrieval.Imaging.Tests.Visualization;

public sealed class ResultGridTests
{
    private static PixelImage Solid(int width, int height, byte r, byte g, byte b)
    {
        var image = new PixelImage(width, height, PixelFormat.Rgb24);
        for (int i = 0; i < width * height; i++)
        {
            image.Pixels[3 * i] = r;
            image.Pixels[3 * i + 1] = g;
            image.Pixels[3 * i + 2] = b;
        }
        return image;
    }

    private static (byte R, byte G, byte B) At(PixelImage image, int x, int y)
    {
        int at = (y * image.Width + x) * image.Channels;
        return (image.Pixels[at], image.Pixels[at + 1], image.Pixels[at + 2]);
    }

    [Fact]
    public void Render_LaysOutQueriesAndFramedResults()
    {
        var blue = Solid(40, 20, 0, 0, 255);
        ResultGridRow[] rows =
        [
            new(new ResultGridCell(blue, "query"), [new ResultGridCell(blue, "right", true), new ResultGridCell(Solid(28, 28, 255, 255, 0), "wrong", false)]),
            new(new ResultGridCell(blue), [new ResultGridCell(blue, IsMatch: true)]),
        ];
        var options = new ResultGridOptions { ThumbnailSize = 64, Gap = 10, FontSize = 12 };
        PixelImage grid = ResultGrid.Render(rows, options);

        // No row labels: width = gap + (thumb + gap) × (results + 1) + gap; height = header + rows × (thumb + caption + gap) + gap.
        int caption = (int)Math.Ceiling(12 * 1.4f), header = 24;
        grid.Width.Should().Be(10 + 74 * 3 + 10);
        grid.Height.Should().Be(header + 2 * (64 + caption + 10) + 10);
        int top = header, firstX = 10;
        At(grid, firstX - 2, top + 30).Should().Be(((byte)128, (byte)128, (byte)128), "the query frame is grey");
        At(grid, firstX + 74 - 2, top + 30).Should().Be(((byte)34, (byte)139, (byte)34), "a match is framed green");
        At(grid, firstX + 148 - 2, top + 30).Should().Be(((byte)220, (byte)20, (byte)60), "a miss is framed red");
        At(grid, firstX + 32, top + 32).Should().Be(((byte)0, (byte)0, (byte)255), "the 40 × 20 query is fitted to 64 × 32, centred");
        At(grid, firstX + 32, top + 8).Should().Be(((byte)255, (byte)255, (byte)255), "above the fitted query is background");
        At(grid, firstX + 148 + 32, top + 32).Should().Be(((byte)255, (byte)255, (byte)0), "a 28 × 28 image is enlarged with nearest neighbour");
    }

    [Fact]
    public void Save_WritesADecodablePng()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("imaging-grid-").FullName, "out", "grid.png");
        try
        {
            PixelImage photo = Photos.Get("chelsea");
            ResultGridRow[] rows = [new(new ResultGridCell(photo), [new ResultGridCell(photo.FlipHorizontal(), "flipped", true)], "cat")];
            ResultGrid.Save(path, rows);
            PixelImage read = ImageDecoder.Decode(path);
            read.Width.Should().BeGreaterThan(2 * 128);
            Directory.GetFiles(Path.GetDirectoryName(path)!).Should().ContainSingle("the temporary file is renamed into place");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(path))!, recursive: true);
        }
    }

    [Fact]
    public void Render_RejectsEmptyInput()
    {
        ((Action)(() => ResultGrid.Render([]))).Should().Throw<ArgumentException>();
        var cell = new ResultGridCell(new PixelImage(4, 4, PixelFormat.Gray8));
        ((Action)(() => ResultGrid.Render([new ResultGridRow(cell, [])], new ResultGridOptions { ThumbnailSize = 2 }))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
