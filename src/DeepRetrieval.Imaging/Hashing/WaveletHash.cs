using System.Numerics;

namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// wHash, as <c>imagehash.whash</c> (4.3, mode "haar"): grey, Lanczos resize to a power-of-two square (by default the
/// largest power of two not above the shorter side), pixels / 255, the coarsest Haar approximation removed
/// (<c>remove_max_haar_ll</c>), then the Haar approximation at hashSize × hashSize, a bit per coefficient set when it
/// is above their median. The Haar transforms repeat PyWavelets' floating-point operations in the same order, so the
/// bits equal imagehash's even where coefficients tie. The Daubechies ("db4") mode is not offered.
/// </summary>
public sealed class WaveletHash : IPerceptualHasher
{
    // PyWavelets' Haar filter taps, 1/√2 rounded to double.
    private const double Tap = 0.7071067811865476;

    /// <summary>Creates the hasher.</summary>
    /// <param name="hashSize">Side of the bit grid, a power of two, at least 2; 8 gives 64 bits.</param>
    /// <param name="imageScale">Side of the resized square, a power of two not below <paramref name="hashSize"/>;
    /// null picks it from each image as imagehash does.</param>
    /// <param name="removeMaxHaarLowLevel">Remove the coarsest approximation first (imagehash's default, true).</param>
    public WaveletHash(int hashSize = 8, int? imageScale = null, bool removeMaxHaarLowLevel = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hashSize, 2);
        if (!BitOperations.IsPow2(hashSize))
            throw new ArgumentException($"hashSize must be a power of two; got {hashSize}.", nameof(hashSize));
        if (imageScale is { } scale && (!BitOperations.IsPow2(scale) || scale < hashSize || scale > 1 << 14))
            throw new ArgumentException($"imageScale must be a power of two from hashSize to 16384; got {scale}.", nameof(imageScale));
        HashSize = hashSize;
        ImageScale = imageScale;
        RemoveMaxHaarLowLevel = removeMaxHaarLowLevel;
    }

    /// <summary>Side of the bit grid.</summary>
    public int HashSize { get; }

    /// <summary>Side of the resized square, or null for imagehash's per-image choice.</summary>
    public int? ImageScale { get; }

    /// <summary>Whether the coarsest Haar approximation is removed first.</summary>
    public bool RemoveMaxHaarLowLevel { get; }

    /// <inheritdoc/>
    public string Name => "whash";

    /// <inheritdoc/>
    public int BitCount => HashSize * HashSize;

    /// <inheritdoc/>
    public PerceptualHash Compute(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int scale = ImageScale ?? Math.Max(1 << BitOperations.Log2((uint)Math.Min(image.Width, image.Height)), HashSize);
        int maxLevel = BitOperations.Log2((uint)scale);
        int level = BitOperations.Log2((uint)HashSize);
        ReadOnlySpan<byte> grey = HashInput.GreyLanczos(image, scale, scale).Pixels;
        var pixels = new double[scale * scale];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = grey[i] / 255.0;

        if (RemoveMaxHaarLowLevel)
        {
            // wavedec2 to a single coefficient, zero it, waverec2: each level's details are kept for the way back.
            var details = new List<(double[] H, double[] V, double[] D, int Size)>();
            double[] approximation = pixels;
            for (int size = scale; size > 1; size /= 2)
            {
                var (a, h, v, d) = Forward(approximation, size);
                details.Add((h, v, d, size / 2));
                approximation = a;
            }
            approximation[0] *= 0;
            for (int i = details.Count - 1; i >= 0; i--)
                approximation = Inverse(approximation, details[i].H, details[i].V, details[i].D, details[i].Size);
            pixels = approximation;
        }

        double[] low = pixels;
        for (int size = scale, step = 0; step < maxLevel - level; step++, size /= 2)
            low = Forward(low, size).A;

        double median = HashInput.Median(low);
        var bits = new bool[low.Length];
        for (int i = 0; i < low.Length; i++)
            bits[i] = low[i] > median;
        return PerceptualHash.FromBitsBigEndian(bits);
    }

    // pywt.dwt2(x, "haar"): along axis 0 first (pairs of rows), then axis 1 (pairs of columns), each output
    // sum = 0 + f[0]·x[2i + 1] + f[1]·x[2i], with dec_lo = (c, c) and dec_hi = (−c, c).
    private static (double[] A, double[] H, double[] V, double[] D) Forward(double[] x, int size)
    {
        int half = size / 2;
        var low = new double[half * size];
        var high = new double[half * size];
        for (int r = 0; r < half; r++)
            for (int c = 0; c < size; c++)
            {
                double even = x[2 * r * size + c], odd = x[(2 * r + 1) * size + c];
                low[r * size + c] = Tap * odd + Tap * even;
                high[r * size + c] = -Tap * odd + Tap * even;
            }
        var a = new double[half * half];
        var v = new double[half * half];
        var h = new double[half * half];
        var d = new double[half * half];
        for (int r = 0; r < half; r++)
            for (int c = 0; c < half; c++)
            {
                double le = low[r * size + 2 * c], lo = low[r * size + 2 * c + 1];
                double he = high[r * size + 2 * c], ho = high[r * size + 2 * c + 1];
                a[r * half + c] = Tap * lo + Tap * le;
                v[r * half + c] = -Tap * lo + Tap * le; // "ad": approximation down, detail across
                h[r * half + c] = Tap * ho + Tap * he;  // "da"
                d[r * half + c] = -Tap * ho + Tap * he;
            }
        return (a, h, v, d);
    }

    // pywt.idwt2: along axis 1 first (a with ad, da with dd), then axis 0; each output starts at 0 and adds
    // rec_lo · approximation, then rec_hi · detail, with rec_lo = (c, c) and rec_hi = (c, −c).
    private static double[] Inverse(double[] a, double[] h, double[] v, double[] d, int half)
    {
        int size = half * 2;
        var low = new double[half * size];
        var high = new double[half * size];
        for (int r = 0; r < half; r++)
            for (int c = 0; c < half; c++)
            {
                double av = a[r * half + c], vv = v[r * half + c], hv = h[r * half + c], dv = d[r * half + c];
                low[r * size + 2 * c] = Tap * av + Tap * vv;
                low[r * size + 2 * c + 1] = Tap * av + -Tap * vv;
                high[r * size + 2 * c] = Tap * hv + Tap * dv;
                high[r * size + 2 * c + 1] = Tap * hv + -Tap * dv;
            }
        var x = new double[size * size];
        for (int r = 0; r < half; r++)
            for (int c = 0; c < size; c++)
            {
                double l = low[r * size + c], hi = high[r * size + c];
                x[2 * r * size + c] = Tap * l + Tap * hi;
                x[(2 * r + 1) * size + c] = Tap * l + -Tap * hi;
            }
        return x;
    }
}
