namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// pHash, as <c>imagehash.phash</c> (4.3): grey, Lanczos resize to (hashSize × factor)², the unnormalised type-II DCT
/// of scipy.fftpack along columns then rows, the top-left hashSize × hashSize block, a bit per coefficient set when it is
/// above the block's median (the DC term included). Bit for bit equal to imagehash on identically decoded pixels.
/// </summary>
public sealed class DctHash : IPerceptualHasher
{
    /// <summary>Creates the hasher.</summary>
    /// <param name="hashSize">Side of the bit grid, at least 2; 8 gives 64 bits.</param>
    /// <param name="highFrequencyFactor">The image side is hashSize × this (imagehash's <c>highfreq_factor</c>), at least 1.</param>
    public DctHash(int hashSize = 8, int highFrequencyFactor = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hashSize, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(highFrequencyFactor, 1);
        if ((long)hashSize * highFrequencyFactor > 4096)
            throw new ArgumentOutOfRangeException(nameof(highFrequencyFactor), "hashSize × highFrequencyFactor must not exceed 4096.");
        HashSize = hashSize;
        HighFrequencyFactor = highFrequencyFactor;
    }

    /// <summary>Side of the bit grid.</summary>
    public int HashSize { get; }

    /// <summary>Ratio of the resized image's side to <see cref="HashSize"/>.</summary>
    public int HighFrequencyFactor { get; }

    /// <inheritdoc/>
    public string Name => "phash";

    /// <inheritdoc/>
    public int BitCount => HashSize * HashSize;

    /// <inheritdoc/>
    public PerceptualHash Compute(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int n = HashSize * HighFrequencyFactor, k = HashSize;
        ReadOnlySpan<byte> pixels = HashInput.GreyLanczos(image, n, n).Pixels;
        double[] low = Dct2Low(pixels, n, k, orthonormal: false);
        double median = HashInput.Median(low);
        var bits = new bool[k * k];
        for (int i = 0; i < bits.Length; i++)
            bits[i] = low[i] > median;
        return PerceptualHash.FromBitsBigEndian(bits);
    }

    /// <summary>
    /// The top-left k × k block of the 2-D type-II DCT of an n × n image: scipy's unnormalised
    /// y[k] = 2 Σ x[m] cos(π k (2m + 1) / 2n), or, when orthonormal, OpenCV's cv::dct scaling.
    /// </summary>
    internal static double[] Dct2Low(ReadOnlySpan<byte> pixels, int n, int k, bool orthonormal)
    {
        var basis = new double[k * n];
        for (int f = 0; f < k; f++)
        {
            double scale = orthonormal ? Math.Sqrt((f == 0 ? 1.0 : 2.0) / n) : 2.0;
            for (int m = 0; m < n; m++)
                basis[f * n + m] = scale * Math.Cos(Math.PI * f * (2 * m + 1) / (2.0 * n));
        }
        // Along axis 0 (down each column) for the first k frequencies, then along axis 1.
        var columns = new double[k * n];
        for (int f = 0; f < k; f++)
            for (int m = 0; m < n; m++)
            {
                double sum = 0;
                for (int r = 0; r < n; r++)
                    sum += basis[f * n + r] * pixels[r * n + m];
                columns[f * n + m] = sum;
            }
        // Coefficients that are zero in exact arithmetic (a flat image, a symmetric one) come out of the sums as
        // rounding noise of either sign; scipy's FFT and cv::dct return exact zeros there, and the median or mean
        // threshold would otherwise turn the noise into bits. Noise stays below 1e-12 of the pixel mass.
        double total = 0;
        foreach (byte p in pixels)
            total += p;
        double tolerance = 4.0 * total * 1e-12;
        var result = new double[k * k];
        for (int f = 0; f < k; f++)
            for (int g = 0; g < k; g++)
            {
                double sum = 0;
                for (int m = 0; m < n; m++)
                    sum += columns[f * n + m] * basis[g * n + m];
                result[f * k + g] = Math.Abs(sum) <= tolerance ? 0.0 : sum;
            }
        return result;
    }
}
