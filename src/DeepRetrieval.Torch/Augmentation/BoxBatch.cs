using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>One pixel box per sample: N-element int64 tensors (CPU) of top row, left column, height and width.</summary>
internal sealed record BoxBatch(Tensor Top, Tensor Left, Tensor Height, Tensor Width, Tensor Found)
{
    /// <summary>
    /// Per-sample boxes drawn as torchvision's <c>get_params</c> does, for all samples at once: up to 10 attempts of an area
    /// fraction uniform in [scaleMin, scaleMax] and a log-uniform aspect ratio; the first attempt that fits is kept and its
    /// position is uniform over the places it fits. <see cref="Found"/> is false where no attempt fitted.
    /// </summary>
    /// <param name="n">Samples.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="scale">Area-fraction range.</param>
    /// <param name="ratio">Aspect-ratio range.</param>
    /// <param name="forErasing">
    /// False: RandomResizedCrop's rule (ratio = w/h, fits when 0 &lt; w ≤ W and 0 &lt; h ≤ H). True: RandomErasing's rule
    /// (ratio = h/w, fits when h &lt; H and w &lt; W).
    /// </param>
    /// <param name="generator">The random source.</param>
    public static BoxBatch Sample(long n, long height, long width, (double Min, double Max) scale, (double Min, double Max) ratio, bool forErasing, Generator generator)
    {
        const int attempts = 10;
        double area = height * (double)width;
        Tensor targetArea = area * (scale.Min + (scale.Max - scale.Min) * BatchInput.Uniform(generator, CPU, n, attempts));
        double logMin = Math.Log(ratio.Min), logMax = Math.Log(ratio.Max);
        Tensor aspect = (logMin + (logMax - logMin) * BatchInput.Uniform(generator, CPU, n, attempts)).exp();
        Tensor along = (targetArea * aspect).sqrt().round();
        Tensor across = (targetArea / aspect).sqrt().round();
        Tensor w = forErasing ? across : along;
        Tensor h = forErasing ? along : across;
        Tensor fits = forErasing
            ? (h < height).logical_and(w < width)
            : (w > 0).logical_and(w <= width).logical_and(h > 0).logical_and(h <= height);
        Tensor found = fits.any(1);
        // argmax returns the first maximum, i.e. the first attempt that fits.
        Tensor first = fits.to(ScalarType.Int32).argmax(1, keepdim: true);
        Tensor boxHeight = h.gather(1, first).squeeze(1);
        Tensor boxWidth = w.gather(1, first).squeeze(1);
        Tensor top = (BatchInput.Uniform(generator, CPU, n) * (height - boxHeight + 1)).floor();
        Tensor left = (BatchInput.Uniform(generator, CPU, n) * (width - boxWidth + 1)).floor();
        return new BoxBatch(top.to(ScalarType.Int64), left.to(ScalarType.Int64), boxHeight.to(ScalarType.Int64), boxWidth.to(ScalarType.Int64), found);
    }

    /// <summary>An N × 1 × H × W bool mask, true inside each sample's box, on <paramref name="device"/>.</summary>
    public Tensor Mask(long height, long width, Device device)
    {
        Tensor rows = arange(height, ScalarType.Int64, device).view(1, 1, -1, 1);
        Tensor columns = arange(width, ScalarType.Int64, device).view(1, 1, 1, -1);
        Tensor top = Top.to(device).view(-1, 1, 1, 1), left = Left.to(device).view(-1, 1, 1, 1);
        Tensor bottom = top + Height.to(device).view(-1, 1, 1, 1), right = left + Width.to(device).view(-1, 1, 1, 1);
        return (rows >= top).logical_and(rows < bottom).logical_and(columns >= left).logical_and(columns < right);
    }
}
