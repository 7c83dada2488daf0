using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Crops a random box from each sample and resizes it to a fixed size (torchvision <c>RandomResizedCrop</c>, the Inception
/// crop): area fraction uniform in <c>scale</c>, aspect ratio w/h log-uniform in <c>ratio</c>, up to 10 attempts, then a
/// central crop clamped to the ratio range. Every sample gets its own box; all are resampled in one <c>grid_sample</c> call
/// (bilinear, <c>align_corners = false</c>), so a box of exactly the output size is copied pixel for pixel. Unlike
/// torchvision's antialiased resize, strong downscaling is plain bilinear sampling and may alias.
/// </summary>
public sealed class RandomResizedCrop : IBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="height">Output height.</param>
    /// <param name="width">Output width.</param>
    /// <param name="scaleMin">Smallest area fraction (torchvision 0.08).</param>
    /// <param name="scaleMax">Largest area fraction (torchvision 1).</param>
    /// <param name="ratioMin">Smallest aspect ratio w/h (torchvision 3/4).</param>
    /// <param name="ratioMax">Largest aspect ratio w/h (torchvision 4/3).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a range is empty, not finite or out of bounds.</exception>
    public RandomResizedCrop(int height, int width, double scaleMin = 0.08, double scaleMax = 1.0, double ratioMin = 3.0 / 4.0, double ratioMax = 4.0 / 3.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        BatchInput.CheckRange(scaleMin, scaleMax, double.Epsilon, 1, "scale");
        BatchInput.CheckRange(ratioMin, ratioMax, double.Epsilon, double.MaxValue, "ratio");
        Height = height;
        Width = width;
        Scale = (scaleMin, scaleMax);
        Ratio = (ratioMin, ratioMax);
    }

    /// <summary>Output height.</summary>
    public int Height { get; }

    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <summary>Area-fraction range.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>Aspect-ratio (w/h) range.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        using var scope = NewDisposeScope();
        long height = images.shape[2], width = images.shape[3];
        BoxBatch boxes = SampleBoxes(images.shape[0], height, width, generator);
        return Crop(images, boxes, Height, Width).MoveToOuterDisposeScope();
    }

    /// <summary>The boxes <see cref="Apply"/> uses: torchvision's attempts, with its central fallback where none fitted.</summary>
    internal BoxBatch SampleBoxes(long n, long height, long width, Generator generator)
    {
        BoxBatch drawn = BoxBatch.Sample(n, height, width, Scale, Ratio, forErasing: false, generator);
        var (fallbackHeight, fallbackWidth) = CentralFallback(height, width, Ratio);
        Tensor found = drawn.Found;
        return new BoxBatch(
            where(found, drawn.Top, (height - fallbackHeight) / 2),
            where(found, drawn.Left, (width - fallbackWidth) / 2),
            where(found, drawn.Height, fallbackHeight),
            where(found, drawn.Width, fallbackWidth),
            ones_like(found));
    }

    /// <summary>
    /// torchvision's box when no attempt fitted: the whole image, narrowed to the nearest allowed aspect ratio (sides rounded
    /// half to even, as Python's round); it is centred by the caller.
    /// </summary>
    internal static (long Height, long Width) CentralFallback(long height, long width, (double Min, double Max) ratio)
    {
        double inputRatio = width / (double)height;
        if (inputRatio < ratio.Min) return ((long)Math.Round(width / ratio.Min, MidpointRounding.ToEven), width);
        if (inputRatio > ratio.Max) return (height, (long)Math.Round(height * ratio.Max, MidpointRounding.ToEven));
        return (height, width);
    }

    /// <summary>Resamples each sample's box to outputHeight × outputWidth with one affine grid.</summary>
    internal static Tensor Crop(Tensor images, BoxBatch boxes, long outputHeight, long outputWidth)
    {
        long n = images.shape[0], height = images.shape[2], width = images.shape[3];
        // With align_corners = false, −1 and +1 are the outer edges of the edge pixels, so the box [left, left + w) spans
        // x ∈ [−1 + 2·left/W, −1 + 2·(left + w)/W]: centre −1 + (2·left + w)/W, half-width w/W.
        Tensor top = boxes.Top.to(ScalarType.Float64), left = boxes.Left.to(ScalarType.Float64);
        Tensor boxHeight = boxes.Height.to(ScalarType.Float64), boxWidth = boxes.Width.to(ScalarType.Float64);
        Tensor zero = zeros(n, ScalarType.Float64);
        Tensor theta = stack([
            boxWidth / width, zero, (2 * left + boxWidth) / width - 1,
            zero, boxHeight / height, (2 * top + boxHeight) / height - 1], 1).view(n, 2, 3);
        theta = theta.to(images.dtype, images.device);
        Tensor grid = nn.functional.affine_grid(theta, [n, images.shape[1], outputHeight, outputWidth], align_corners: false);
        return nn.functional.grid_sample(images, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
    }
}
