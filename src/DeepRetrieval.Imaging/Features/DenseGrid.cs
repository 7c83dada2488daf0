namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// Dense SIFT: upright keypoints on a regular grid instead of detected ones, as in dense/PHOW features for bag-of-words
/// (Bosch et al., ICCV 2007). Every grid point gets one keypoint per size; a keypoint of size s has σ = s / 2, so its
/// descriptor spans 4 × 4 bins of 3σ = 1.5·s pixels. The octave field is packed so that <see cref="Sift.Compute(ReadOnlySpan{byte}, int, int, ReadOnlySpan{Keypoint}, CancellationToken)"/>
/// reads the pyramid level whose blur matches the size, as for a detected keypoint of that size.
/// </summary>
public sealed record DenseGrid
{
    /// <summary>Pixels between neighbouring grid points, in both directions; positive.</summary>
    public int Step { get; init; } = 8;

    /// <summary>Keypoint sizes (diameters, 2σ) to describe at every point; each positive. Default: one size of 12 pixels (bins of 18 pixels).</summary>
    public IReadOnlyList<float> Sizes { get; init; } = [12f];

    /// <summary>Distance of the first grid point from the left and top edges; non-negative. Default: half a step.</summary>
    public int? Offset { get; init; }

    /// <summary>The grid's keypoints for an image of the given size, row by row, every size at each point.</summary>
    /// <param name="width">Image width in pixels; positive.</param>
    /// <param name="height">Image height in pixels; positive.</param>
    /// <param name="sigma">The σ of the pyramid's first layer (<see cref="SiftOptions.Sigma"/>); positive.</param>
    /// <param name="octaveLayers">Intervals per octave (<see cref="SiftOptions.OctaveLayers"/>); positive.</param>
    /// <exception cref="ArgumentException">A dimension, the step, the offset or a size is out of range.</exception>
    public Keypoint[] Keypoints(int width, int height, double sigma = 1.6, int octaveLayers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (Step <= 0) throw new ArgumentOutOfRangeException(nameof(Step), Step, "The grid step must be positive.");
        int offset = Offset ?? Step / 2;
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(Offset), offset, "The grid offset must not be negative.");
        ArgumentNullException.ThrowIfNull(Sizes);
        if (Sizes.Count == 0) throw new ArgumentException("Give at least one keypoint size.", nameof(Sizes));
        foreach (float size in Sizes)
        {
            if (!(size > 0) || float.IsInfinity(size))
                throw new ArgumentOutOfRangeException(nameof(Sizes), size, "Keypoint sizes must be positive and finite.");
        }
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "σ must be positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(octaveLayers);

        int[] packed = Sizes.Select(size => PackedLevel(size, sigma, octaveLayers)).ToArray();
        var keypoints = new List<Keypoint>();
        for (int y = offset; y < height; y += Step)
            for (int x = offset; x < width; x += Step)
                for (int s = 0; s < Sizes.Count; s++)
                    keypoints.Add(new Keypoint(x, y, Sizes[s], 0f, 0f, packed[s]));
        return [.. keypoints];
    }

    // The octave and layer whose Gaussian has σ closest (in log scale) to size / 2: σ_abs = σ · 2^(octave + layer / L).
    // Octave −1 (the up-sampled image) is the finest available; layers run 0 … L + 2 within an octave.
    internal static int PackedLevel(float size, double sigma, int octaveLayers)
    {
        double level = Math.Log2(size / 2.0 / sigma);
        int octave = (int)Math.Floor(level);
        int layer = (int)Math.Round((level - octave) * octaveLayers, MidpointRounding.ToEven);
        if (layer >= octaveLayers)
        {
            octave++;
            layer -= octaveLayers;
        }
        if (octave < -1)
        {
            octave = -1;
            layer = 0;
        }
        octave = Math.Min(octave, 100);
        return Keypoint.PackOctave(octave, layer);
    }
}
