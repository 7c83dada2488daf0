using DeepRetrieval.Data;
using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Visualization;

namespace DeepRetrieval.Samples.FashionMnist;

/// <summary>Turns test images and their neighbour lists into the image package's result grid (right class framed green).</summary>
internal static class SampleResultGrid
{
    public static void Save(string path, IdxImages images, byte[] labels, ReadOnlySpan<long> neighborIds, int k, int rows, int shown)
    {
        var gridRows = new List<ResultGridRow>(rows);
        for (int r = 0; r < rows; r++)
        {
            var results = new List<ResultGridCell>(shown);
            for (int j = 0; j < shown; j++)
            {
                long id = neighborIds[r * k + j];
                if (id < 0) break;
                results.Add(new ResultGridCell(Garment(images, (int)id), Datasets.FashionMnist.ClassNames[labels[id]], labels[id] == labels[r]));
            }
            gridRows.Add(new ResultGridRow(new ResultGridCell(Garment(images, r)), results, Datasets.FashionMnist.ClassNames[labels[r]]));
        }
        ResultGrid.Save(path, gridRows, new ResultGridOptions
        {
            ThumbnailSize = 84,
            Title = $"Test images querying the others: top {shown} neighbours (green: same class, red: other class)",
        });
    }

    /// <summary>A grey image with dark garments on white, as the dataset is usually shown.</summary>
    private static PixelImage Garment(IdxImages images, int index)
    {
        ReadOnlySpan<byte> pixels = images.GetImage(index);
        var inverted = new byte[pixels.Length];
        for (int i = 0; i < inverted.Length; i++) inverted[i] = (byte)(255 - pixels[i]);
        return new PixelImage(images.Columns, images.Rows, PixelFormat.Gray8, inverted);
    }
}
