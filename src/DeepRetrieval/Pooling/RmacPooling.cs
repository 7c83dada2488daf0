using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;

namespace DeepRetrieval.Pooling;

/// <summary>
/// Regional maximum activation of convolutions (Tolias, Sicre &amp; Jégou, ICLR 2016) with cirtorch's region grid: at scale
/// l = 1..L, square regions of side ⌊2·min(H, W) / (l + 1)⌋ laid out with about 40 % overlap; each region is max-pooled and divided
/// by its L2 norm plus ε, the region vectors are summed and the sum is L2-normalised. Like cirtorch's <c>rmac</c>, the whole-map MAC
/// is one more region unless <see cref="IncludeWholeMap"/> is false. Equals <c>DeepRetrieval.Torch.Pooling.RMAC</c> with the same
/// parameters; descriptors have unit length.
/// </summary>
public sealed class RmacPooling : IFeatureMapPooling
{
    /// <summary>The name <see cref="FeatureMapPoolings"/> knows this pooling by.</summary>
    public const string RegistryName = "RMAC";

    private const float Overlap = 0.4f;

    /// <summary>Creates the pooling.</summary>
    /// <param name="levels">L, the number of scales (the paper and cirtorch use 3).</param>
    /// <param name="includeWholeMap">Add the MAC of the whole map as one more region, as cirtorch does.</param>
    /// <param name="epsilon">Added to each region's norm before dividing, as in cirtorch, so an all-zero region stays zero.</param>
    /// <exception cref="ArgumentOutOfRangeException">levels is not positive or epsilon is negative or not finite.</exception>
    public RmacPooling(int levels = 3, bool includeWholeMap = true, float epsilon = 1e-6f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(levels);
        if (!(epsilon >= 0) || !float.IsFinite(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be finite and non-negative.");
        Levels = levels;
        IncludeWholeMap = includeWholeMap;
        Epsilon = epsilon;
    }

    /// <summary>L, the number of scales.</summary>
    public int Levels { get; }

    /// <summary>Whether the whole-map MAC is added as an extra region (cirtorch's behaviour).</summary>
    public bool IncludeWholeMap { get; }

    /// <summary>Added to each region's norm before dividing.</summary>
    public float Epsilon { get; }

    /// <inheritdoc />
    public string Name => RegistryName;

    /// <inheritdoc />
    public string Description =>
        $"{RegistryName}(levels={Levels},wholeMap={(IncludeWholeMap ? "true" : "false")},eps={Epsilon.ToString("R", CultureInfo.InvariantCulture)})";

    /// <inheritdoc />
    public int OutputDimension(int channels) => ChannelPlanes.OneValuePerChannel(channels);

    /// <inheritdoc />
    public void Pool(ReadOnlySpan<float> maps, FeatureMapShape shape, Span<float> pooled)
    {
        int count = shape.CheckBatch(maps, pooled, shape.Channels);
        int channels = shape.Channels, plane = shape.PlaneLength;
        IReadOnlyList<RmacRegion> regions = Regions(shape.Height, shape.Width, Levels);
        float[] scratch = ArrayPool<float>.Shared.Rent(channels);
        try
        {
            Span<float> region = scratch.AsSpan(0, channels);
            for (int item = 0; item < count; item++)
            {
                ReadOnlySpan<float> map = maps.Slice(item * shape.Length, shape.Length);
                Span<float> sum = pooled.Slice(item * channels, channels);
                sum.Clear();
                if (IncludeWholeMap)
                {
                    for (int c = 0; c < channels; c++) region[c] = TensorPrimitives.Max(map.Slice(c * plane, plane));
                    AddNormalised(region, sum);
                }
                foreach (RmacRegion r in regions)
                {
                    for (int c = 0; c < channels; c++) region[c] = WindowMax(map.Slice(c * plane, plane), shape.Width, r);
                    AddNormalised(region, sum);
                }
                // F.normalize(p=2): divide by max(‖v‖, 1e-12).
                float norm = MathF.Max(TensorPrimitives.Norm<float>(sum), 1e-12f);
                TensorPrimitives.Divide(sum, norm, sum);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// The regions of an H × W map at scales 1..<paramref name="levels"/>, exactly as cirtorch's <c>rmac</c> computes them (scales
    /// whose side would be 0 are skipped; for tiny maps a start can repeat, and the region then counts twice), row-major within each scale.
    /// The whole-map region is not listed.
    /// </summary>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="levels">L.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the level count is not positive.</exception>
    public static IReadOnlyList<RmacRegion> Regions(int height, int width, int levels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(levels);
        int shortSide = Math.Min(height, width), longSide = Math.Max(height, width);
        int extraAlongWidth = 0, extraAlongHeight = 0;
        if (height != width)
        {
            // cirtorch picks, among 2..7 regions along the long side, the count whose overlap (w² − w·b) / w² is closest to 40 %, in
            // float32 tensor arithmetic with b = (1 / (steps − 1)) · (long − w). Ties exist (5 × 9) and float rounding breaks them,
            // so the same float32 operations are done here; the first minimum wins, as torch.min returns it.
            int best = 0;
            float bestGap = float.PositiveInfinity;
            float squared = shortSide * (float)shortSide;
            for (int extra = 0; extra < 6; extra++)
            {
                float step = 1f / (extra + 1) * (longSide - shortSide);
                float gap = MathF.Abs((squared - shortSide * step) / squared - Overlap);
                if (gap < bestGap)
                {
                    bestGap = gap;
                    best = extra;
                }
            }
            if (height < width) extraAlongWidth = best + 1;
            else extraAlongHeight = best + 1;
        }

        var regions = new List<RmacRegion>();
        for (int level = 1; level <= levels; level++)
        {
            int size = (int)Math.Floor(2.0 * shortSide / (level + 1));
            if (size == 0) continue;
            int[] tops = Starts(height, size, level + extraAlongHeight);
            int[] lefts = Starts(width, size, level + extraAlongWidth);
            foreach (int top in tops)
                foreach (int left in lefts)
                    regions.Add(new RmacRegion(top, left, size));
        }
        return regions;
    }

    // cirtorch: start = floor(wl2 + i·b) − wl2, wl2 = floor(wl/2 − 1), b = (extent − wl) / (count − 1); the sum is float32 as in its
    // tensor code (double arithmetic moves some starts, e.g. on a 2 × 32 map).
    private static int[] Starts(int extent, int size, int count)
    {
        float half = MathF.Floor(size / 2f - 1);
        float step = count == 1 ? 0f : (float)((extent - size) / (double)(count - 1));
        var starts = new int[count];
        for (int i = 0; i < count; i++) starts[i] = (int)(MathF.Floor(half + i * step) - half);
        return starts;
    }

    private static float WindowMax(ReadOnlySpan<float> plane, int width, RmacRegion region)
    {
        float max = float.NegativeInfinity;
        for (int row = region.Top; row < region.Top + region.Size; row++)
            max = MathF.Max(max, TensorPrimitives.Max(plane.Slice(row * width + region.Left, region.Size)));
        return max;
    }

    // region / (‖region‖ + ε), added to the sum; divides (rather than multiplying by a reciprocal) as cirtorch does.
    private void AddNormalised(Span<float> region, Span<float> sum)
    {
        TensorPrimitives.Divide(region, TensorPrimitives.Norm<float>(region) + Epsilon, region);
        TensorPrimitives.Add(sum, region, sum);
    }

    internal static IFeatureMapPooling Create(PoolingArguments arguments) =>
        new RmacPooling(arguments.GetInt32("levels", 3), arguments.GetBoolean("wholeMap", true), arguments.GetSingle("eps", 1e-6f));
}
