namespace DeepRetrieval.Aggregation;

/// <summary>
/// Turns a feature map into local descriptors: each of the H × W cells of a C-channel map becomes one C-dimensional
/// descriptor, so the classical aggregators run over deep features (Arandjelović et al.'s NetVLAD input, Tolias et al.'s
/// HOW/ASMK). The map is given as plain floats in channels-first order, as a backbone stage (Torch package) or an ONNX
/// model's intermediate output produces it; nothing here depends on a deep-learning runtime.
/// </summary>
public static class FeatureMapCells
{
    /// <summary>Extracts the cells of one C × H × W map.</summary>
    /// <param name="map">The map in channels-first (C, H, W) order, C · H · W finite values.</param>
    /// <param name="channels">C; positive.</param>
    /// <param name="height">H; positive.</param>
    /// <param name="width">W; positive.</param>
    /// <param name="options">Stride, selection and normalisation; null for all cells, stride 1, L2-normalised.</param>
    /// <returns>Descriptors ordered by decreasing strength (ties by row-major cell order).</returns>
    /// <exception cref="ArgumentException">The sizes do not match the span, a value is not finite, or an option is out of range.</exception>
    public static DeepLocalFeatures FromChannelsFirst(ReadOnlySpan<float> map, int channels, int height, int width, FeatureMapCellOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        options ??= new FeatureMapCellOptions();
        if (options.Stride <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.Stride, "Stride must be positive.");
        if (options.MaxCells < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxCells, "MaxCells must not be negative.");
        if (map.Length != (long)channels * height * width)
            throw new ArgumentException($"A {channels} × {height} × {width} map has {(long)channels * height * width} values; got {map.Length}.", nameof(map));
        if (!FiniteValues.All(map)) throw new ArgumentException("Feature map values must be finite.", nameof(map));

        int cells = height * width;
        var transposed = new float[cells * channels];
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> plane = map.Slice(c * cells, cells);
            for (int p = 0; p < cells; p++) transposed[p * channels + c] = plane[p];
        }
        var strengths = new float[cells];
        for (int p = 0; p < cells; p++) strengths[p] = System.Numerics.Tensors.TensorPrimitives.Norm(transposed.AsSpan(p * channels, channels));
        int[] order = Enumerable.Range(0, cells).OrderByDescending(p => strengths[p]).ThenBy(p => p).ToArray();
        int kept = options.MaxCells == 0 ? cells : Math.Min(cells, options.MaxCells);

        var descriptors = new float[kept * channels];
        var xs = new float[kept];
        var ys = new float[kept];
        var keptStrengths = new float[kept];
        for (int i = 0; i < kept; i++)
        {
            int p = order[i];
            Span<float> target = descriptors.AsSpan(i * channels, channels);
            transposed.AsSpan(p * channels, channels).CopyTo(target);
            if (options.L2Normalize && strengths[p] > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(target, 1f / strengths[p], target);
            xs[i] = (p % width + 0.5f) * options.Stride - 0.5f;
            ys[i] = (p / width + 0.5f) * options.Stride - 0.5f;
            keptStrengths[i] = strengths[p];
        }
        return new DeepLocalFeatures(descriptors, channels, xs, ys, keptStrengths);
    }
}
