namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// dHash, as <c>imagehash.dhash</c> (4.3): grey, Lanczos resize to (hashSize + 1) × hashSize, a bit per pair of
/// horizontal neighbours set when the right one is brighter; <see cref="Vertical"/> compares vertical neighbours as
/// <c>imagehash.dhash_vertical</c>. Bit for bit equal to imagehash on identically decoded pixels.
/// </summary>
public sealed class DifferenceHash : IPerceptualHasher
{
    /// <summary>Creates the hasher.</summary>
    /// <param name="hashSize">Side of the bit grid, at least 2; 8 gives 64 bits.</param>
    /// <param name="vertical">Compare each pixel with the one below instead of the one to its right.</param>
    public DifferenceHash(int hashSize = 8, bool vertical = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hashSize, 2);
        HashSize = hashSize;
        Vertical = vertical;
    }

    /// <summary>Side of the bit grid.</summary>
    public int HashSize { get; }

    /// <summary>True for <c>dhash_vertical</c>.</summary>
    public bool Vertical { get; }

    /// <inheritdoc/>
    public string Name => Vertical ? "dhash-vertical" : "dhash";

    /// <inheritdoc/>
    public int BitCount => HashSize * HashSize;

    /// <inheritdoc/>
    public PerceptualHash Compute(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int n = HashSize;
        var bits = new bool[n * n];
        if (Vertical)
        {
            ReadOnlySpan<byte> p = HashInput.GreyLanczos(image, n, n + 1).Pixels;
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++)
                    bits[r * n + c] = p[(r + 1) * n + c] > p[r * n + c];
        }
        else
        {
            ReadOnlySpan<byte> p = HashInput.GreyLanczos(image, n + 1, n).Pixels;
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++)
                    bits[r * n + c] = p[r * (n + 1) + c + 1] > p[r * (n + 1) + c];
        }
        return PerceptualHash.FromBitsBigEndian(bits);
    }
}
