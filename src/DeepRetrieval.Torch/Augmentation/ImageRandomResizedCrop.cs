using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// torchvision's <c>RandomResizedCrop</c> on one decoded image (the Inception crop): up to 10 attempts of an area fraction
/// uniform in <c>scale</c> and an aspect ratio w/h log-uniform in <c>ratio</c>, sides rounded half to even; the first box that
/// fits is placed uniformly; else torchvision's central fallback. The box is cut out and resized to
/// <see cref="Height"/> × <see cref="Width"/> with <see cref="Filter"/> (PIL's antialiased bilinear by default, what
/// torchvision's <c>resized_crop</c> does on PIL images). Runs on the decoding threads of an <see cref="Data.ImageFileSet"/>;
/// <see cref="RandomResizedCrop"/> is the batch version for tensors.
/// </summary>
public sealed class ImageRandomResizedCrop : IImageAugmentation
{
    private const int Attempts = 10;

    /// <summary>Creates the augmentation.</summary>
    /// <param name="height">Output height.</param>
    /// <param name="width">Output width.</param>
    /// <param name="scaleMin">Smallest area fraction (torchvision 0.08).</param>
    /// <param name="scaleMax">Largest area fraction (torchvision 1).</param>
    /// <param name="ratioMin">Smallest aspect ratio w/h (torchvision 3/4).</param>
    /// <param name="ratioMax">Largest aspect ratio w/h (torchvision 4/3).</param>
    /// <param name="filter">The resampling filter.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, a range is empty, not finite or out of bounds, or the filter is unknown.</exception>
    public ImageRandomResizedCrop(int height, int width, double scaleMin = 0.08, double scaleMax = 1.0, double ratioMin = 3.0 / 4.0,
        double ratioMax = 4.0 / 3.0, ResizeFilter filter = ResizeFilter.Bilinear)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        BatchInput.CheckRange(scaleMin, scaleMax, double.Epsilon, 1, "scale");
        BatchInput.CheckRange(ratioMin, ratioMax, double.Epsilon, double.MaxValue, "ratio");
        if (!Enum.IsDefined(filter)) throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown resize filter.");
        Height = height;
        Width = width;
        Scale = (scaleMin, scaleMax);
        Ratio = (ratioMin, ratioMax);
        Filter = filter;
    }

    /// <summary>Output height.</summary>
    public int Height { get; }

    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <summary>Area-fraction range.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>Aspect-ratio (w/h) range.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>The resampling filter.</summary>
    public ResizeFilter Filter { get; }

    /// <inheritdoc/>
    public PixelImage Apply(PixelImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        var (left, top, width, height) = SampleBox(image.Width, image.Height, random);
        PixelImage box = left == 0 && top == 0 && width == image.Width && height == image.Height ? image : image.Crop(left, top, width, height);
        return box.Resize(Width, Height, Filter);
    }

    /// <summary>The box <see cref="Apply"/> cuts from a <paramref name="imageWidth"/> × <paramref name="imageHeight"/> image.</summary>
    internal (int Left, int Top, int Width, int Height) SampleBox(int imageWidth, int imageHeight, Random random)
    {
        double area = (double)imageWidth * imageHeight;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            double targetArea = area * (Scale.Min + (Scale.Max - Scale.Min) * random.NextDouble());
            double aspect = Math.Exp(logMin + (logMax - logMin) * random.NextDouble());
            double w = Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            double h = Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight)
            {
                int boxWidth = (int)w, boxHeight = (int)h;
                // torch.randint(0, side − box + 1): uniform over the places the box fits.
                int top = random.Next(imageHeight - boxHeight + 1);
                int left = random.Next(imageWidth - boxWidth + 1);
                return (left, top, boxWidth, boxHeight);
            }
        }
        var (fallbackHeight, fallbackWidth) = RandomResizedCrop.CentralFallback(imageHeight, imageWidth, Ratio);
        return ((int)(imageWidth - fallbackWidth) / 2, (int)(imageHeight - fallbackHeight) / 2, (int)fallbackWidth, (int)fallbackHeight);
    }
}
