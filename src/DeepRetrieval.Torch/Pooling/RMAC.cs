using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Pooling;

/// <summary>
/// Regional maximum activation of convolutions (Tolias, Sicre &amp; Jégou, "Particular object retrieval with integral
/// max-pooling of CNN activations", ICLR 2016), with cirtorch's region grid: at scale l = 1..L square regions of side
/// ⌊2·min(H, W) / (l + 1)⌋ are laid out uniformly with about 40 % overlap (l regions along the short side, l + m along the
/// long side, m in 1..6 chosen so neighbours overlap closest to 40 %, m = 0 for a square map). Each region is max-pooled and L2-normalised, the region vectors are
/// summed and the sum is L2-normalised: <c>f = normalise(Σ_R normalise(MAC(x|_R)))</c>. Like cirtorch's <c>rmac</c>, the
/// whole-map MAC is added as an extra region unless <c>includeWholeMap</c> is false (the paper's plain region set).
/// The paper also PCA-whitens each region vector before summing; that variant is not built in
/// (<see cref="DeepRetrieval.Torch.Heads.PcaWhitening"/> whitens whole descriptors). N × C × H × W in, N × C out (unit rows).
/// </summary>
public sealed class RMAC : nn.Module<Tensor, Tensor>
{
    private const double Overlap = 0.4;

    /// <summary>Creates the layer.</summary>
    /// <param name="levels">L, the number of scales (the paper and cirtorch use 3).</param>
    /// <param name="includeWholeMap">Add the MAC of the whole map as one more region, as cirtorch does.</param>
    /// <param name="epsilon">Added to each region's norm before dividing, as in cirtorch, so an all-zero region stays zero.</param>
    /// <exception cref="ArgumentOutOfRangeException">levels is not positive or epsilon is negative.</exception>
    public RMAC(int levels = 3, bool includeWholeMap = true, double epsilon = 1e-6) : base(nameof(RMAC))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(levels);
        if (!(epsilon >= 0) || double.IsInfinity(epsilon))
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
    public double Epsilon { get; }

    /// <summary>Pools the maps into one R-MAC descriptor per image.</summary>
    /// <param name="maps">N × C × H × W floating-point feature maps.</param>
    /// <returns>N × C unit-length descriptors.</returns>
    /// <exception cref="ArgumentException">The input is not a floating-point 4-D tensor with at least one location.</exception>
    public override Tensor forward(Tensor maps)
    {
        FeatureMaps.Check(maps, nameof(maps));
        int height = (int)maps.shape[2], width = (int)maps.shape[3];
        var regionVectors = new List<Tensor>();
        if (IncludeWholeMap) regionVectors.Add(maps.amax([2, 3]).unsqueeze(2));
        // The regions of one scale are a grid of equal squares: one stride-1 max-pool gives the max of every window of that
        // size, and the grid picks its rows and columns (a few ops per scale rather than per region; repeated starts, which
        // cirtorch produces for tiny maps, are picked, and counted, twice as there).
        foreach (ScaleGrid scale in Grids(height, width, Levels))
        {
            Tensor windows = nn.functional.max_pool2d(maps, [scale.Size, scale.Size], [1, 1]);
            Tensor grid = windows.index_select(2, tensor(scale.Tops, device: maps.device))
                                 .index_select(3, tensor(scale.Lefts, device: maps.device));
            regionVectors.Add(grid.flatten(2));
        }
        Tensor stacked = cat(regionVectors, 2);
        Tensor normalised = stacked / (stacked.norm(1, true, 2) + Epsilon);
        return nn.functional.normalize(normalised.sum([2]), p: 2, dim: 1);
    }

    /// <summary>
    /// The regions of an H × W map at scales 1..<paramref name="levels"/>, computed exactly as cirtorch's <c>rmac</c> computes its
    /// regions (scales whose side would be 0 are skipped), row-major within each scale.
    /// </summary>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="levels">L.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the level count is not positive.</exception>
    public static IReadOnlyList<RmacRegion> Regions(int height, int width, int levels) =>
        Grids(height, width, levels)
            .SelectMany(g => g.Tops.SelectMany(top => g.Lefts.Select(left => new RmacRegion((int)top, (int)left, g.Size))))
            .ToArray();

    private static List<ScaleGrid> Grids(int height, int width, int levels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(levels);
        int shortSide = Math.Min(height, width);
        int extraAlongWidth = 0, extraAlongHeight = 0;
        if (height != width)
        {
            // Among 2..7 regions along the long side, pick the count whose overlap (w² − w·b) / w² is closest to 40 %. Computed in
            // float32 exactly as cirtorch's tensor code computes it (b = (1 / (steps − 1)) · (long − w), as PyTorch evaluates
            // scalar / tensor), because several sizes (e.g. 5 × 9) tie and float rounding decides the tie.
            int best = 0;
            float bestGap = float.PositiveInfinity;
            float squared = shortSide * (float)shortSide;
            for (int i = 0; i < 6; i++)
            {
                float step = 1f / (i + 1) * (Math.Max(height, width) - shortSide);
                float gap = MathF.Abs((squared - shortSide * step) / squared - (float)Overlap);
                if (gap < bestGap) { bestGap = gap; best = i; }
            }
            if (height < width) extraAlongWidth = best + 1;
            else extraAlongHeight = best + 1;
        }

        var grids = new List<ScaleGrid>();
        for (int level = 1; level <= levels; level++)
        {
            int size = (int)Math.Floor(2.0 * shortSide / (level + 1));
            if (size == 0) continue;
            grids.Add(new ScaleGrid(size, Starts(height, size, level + extraAlongHeight), Starts(width, size, level + extraAlongWidth)));
        }
        return grids;
    }

    private readonly record struct ScaleGrid(int Size, long[] Tops, long[] Lefts);

    // cirtorch: cen = floor(wl2 + i·b) − wl2 with wl2 = floor(wl/2 − 1) and b = (extent − wl) / (count − 1), the sum in float32
    // as its tensor code does (double arithmetic rounds some sizes, e.g. 2 × 32, to a different start).
    private static long[] Starts(int extent, int size, int count)
    {
        float half = MathF.Floor(size / 2f - 1);
        float step = count == 1 ? 0f : (float)((extent - size) / (double)(count - 1));
        var starts = new long[count];
        for (int i = 0; i < count; i++) starts[i] = (long)(MathF.Floor(half + i * step) - half);
        return starts;
    }
}
