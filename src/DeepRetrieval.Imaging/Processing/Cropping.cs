namespace DeepRetrieval.Imaging.Processing;

/// <summary>Crops, centre crops and letterboxing (resize to fit, then pad to a fixed size).</summary>
public static class Cropping
{
    /// <summary>
    /// Cuts out the rectangle with top-left corner (<paramref name="left"/>, <paramref name="top"/>). As PIL's
    /// <c>crop</c>, the rectangle may extend past the image; those pixels are zero.
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="left">Left edge, may be negative.</param>
    /// <param name="top">Top edge, may be negative.</param>
    /// <param name="width">Width of the result, at least 1.</param>
    /// <param name="height">Height of the result, at least 1.</param>
    public static PixelImage Crop(this PixelImage image, int left, int top, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new PixelImage(width, height, image.Format);
        Paste(image, result, -left, -top);
        return result;
    }

    /// <summary>
    /// Cuts out the centred <paramref name="width"/> × <paramref name="height"/> rectangle as torchvision's
    /// <c>CenterCrop</c>: offset <c>round((side − crop) / 2)</c> with round half to even; a crop larger than the image pads
    /// zeros, <c>(crop − side) / 2</c> of them before the image.
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="width">Crop width, at least 1.</param>
    /// <param name="height">Crop height, at least 1.</param>
    public static PixelImage CenterCrop(this PixelImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        return image.Crop(CenterOffset(image.Width, width), CenterOffset(image.Height, height), width, height);
    }

    /// <summary>A square <see cref="CenterCrop(PixelImage, int, int)"/>.</summary>
    /// <param name="image">The image.</param>
    /// <param name="size">Side of the square, at least 1.</param>
    public static PixelImage CenterCrop(this PixelImage image, int size) => image.CenterCrop(size, size);

    /// <summary>
    /// Resizes to fit inside <paramref name="width"/> × <paramref name="height"/> keeping the aspect ratio, then pads
    /// with <paramref name="fill"/> to exactly that size with the image centred: PIL's <c>ImageOps.pad</c> (fit size
    /// and offset rounded half to even, as Python's round).
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="width">Output width, at least 1.</param>
    /// <param name="height">Output height, at least 1.</param>
    /// <param name="filter">The resampling filter (PIL's default for <c>pad</c> is <see cref="ResizeFilter.Bicubic"/>).</param>
    /// <param name="fill">Value of every channel of the padding (0 is black; 114 is the grey YOLO pads with).</param>
    public static PixelImage Letterbox(this PixelImage image, int width, int height, ResizeFilter filter, byte fill = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        PixelImage fitted = image.ResizeToFit(width, height, filter);
        if (fitted.Width == width && fitted.Height == height)
            return fitted;
        var result = new PixelImage(width, height, image.Format);
        result.Pixels.Fill(fill);
        int x = (int)Math.Round((width - fitted.Width) * 0.5, MidpointRounding.ToEven);
        int y = (int)Math.Round((height - fitted.Height) * 0.5, MidpointRounding.ToEven);
        Paste(fitted, result, x, y);
        return result;
    }

    /// <summary>torchvision's centre offset: round half to even when cropping, minus half the padding when padding.</summary>
    /// <param name="side">Image side.</param>
    /// <param name="crop">Crop side.</param>
    public static int CenterOffset(int side, int crop) =>
        crop <= side ? (int)Math.Round((side - crop) / 2.0, MidpointRounding.ToEven) : -((crop - side) / 2);

    // Copies the overlap of source placed at (x, y) inside destination.
    private static void Paste(PixelImage source, PixelImage destination, int x, int y)
    {
        int channels = source.Channels;
        int fromX = Math.Max(0, -x), toX = Math.Min(source.Width, destination.Width - x);
        int fromY = Math.Max(0, -y), toY = Math.Min(source.Height, destination.Height - y);
        if (fromX >= toX)
            return;
        for (int sy = fromY; sy < toY; sy++)
            source.GetRow(sy).Slice(fromX * channels, (toX - fromX) * channels)
                .CopyTo(destination.GetRow(sy + y).Slice((fromX + x) * channels));
    }
}
