using DeepRetrieval.Imaging.Processing;

namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// aHash, as <c>imagehash.average_hash</c> (4.3): grey (PIL's "L"), Lanczos resize to hashSize × hashSize, a bit per
/// pixel set when the pixel is above the mean. Reproduces imagehash bit for bit when the decoded pixels equal PIL's
/// (PNG always; the JPEGs tested too); <see cref="PerceptualHash.ToString"/> equals <c>str(hash)</c> for bit counts
/// that are multiples of 8.
/// </summary>
public sealed class AverageHash : IPerceptualHasher
{
    /// <summary>Creates the hasher.</summary>
    /// <param name="hashSize">Side of the bit grid, at least 2 (imagehash's <c>hash_size</c>); 8 gives 64 bits.</param>
    public AverageHash(int hashSize = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hashSize, 2);
        HashSize = hashSize;
    }

    /// <summary>Side of the bit grid.</summary>
    public int HashSize { get; }

    /// <inheritdoc/>
    public string Name => "ahash";

    /// <inheritdoc/>
    public int BitCount => HashSize * HashSize;

    /// <inheritdoc/>
    public PerceptualHash Compute(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        ReadOnlySpan<byte> pixels = HashInput.GreyLanczos(image, HashSize, HashSize).Pixels;
        long sum = 0;
        foreach (byte p in pixels)
            sum += p;
        // pixel > sum / n, compared exactly in integers.
        var bits = new bool[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
            bits[i] = (long)pixels[i] * pixels.Length > sum;
        return PerceptualHash.FromBitsBigEndian(bits);
    }
}
