using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Hashing;

/// <summary>The shared first steps of the imagehash hashes: <c>image.convert("L").resize(size, LANCZOS)</c>.</summary>
internal static class HashInput
{
    public static PixelImage GreyLanczos(PixelImage image, int width, int height)
    {
        PixelImage grey = image.Format == PixelFormat.Gray8 ? image : image.ConvertTo(PixelFormat.Gray8);
        // PIL's resize returns a copy when the size is unchanged; Resize does the same.
        return grey.Resize(width, height, ResizeFilter.Lanczos);
    }

    /// <summary>numpy.median: the middle value, or the mean of the two middle values for an even count.</summary>
    public static double Median(ReadOnlySpan<double> values)
    {
        double[] sorted = values.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
