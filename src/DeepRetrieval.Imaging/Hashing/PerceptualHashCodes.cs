namespace DeepRetrieval.Imaging.Hashing;

/// <summary>
/// Moves perceptual hashes in and out of binary (Hamming) index codes: a hash of <c>b</c> bits becomes one code of
/// ⌈b / 8⌉ bytes, its packed bytes as they are. The index numbers bits differently from the hashers (see
/// <see cref="DeepRetrieval.Indexes.IBinaryIndex"/>), but a Hamming distance counts differing bits whatever their order,
/// and the padding bits of a hash whose bit count is not a multiple of 8 are zero in every hash, so distances between
/// codes equal <see cref="PerceptualHash.DistanceTo"/> exactly.
/// </summary>
public static class PerceptualHashCodes
{
    /// <summary>The bit count of the binary index that holds hashes of <paramref name="hashBits"/> bits: the next multiple of 8.</summary>
    /// <param name="hashBits">Bits per hash, at least 1.</param>
    public static int IndexBits(int hashBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hashBits, 1);
        return (hashBits + 7) / 8 * 8;
    }

    /// <summary>Packs hashes into consecutive codes, one per hash.</summary>
    /// <param name="hashes">Hashes of one bit count.</param>
    /// <returns>hashes.Count × ⌈bits / 8⌉ bytes.</returns>
    /// <exception cref="ArgumentException">A hash is null, or the bit counts differ.</exception>
    public static byte[] Pack(IReadOnlyList<PerceptualHash> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.Count == 0)
            return [];
        int bits = (hashes[0] ?? throw new ArgumentException("Hash 0 is null.", nameof(hashes))).BitCount;
        int size = (bits + 7) / 8;
        var codes = new byte[(long)hashes.Count * size];
        for (int i = 0; i < hashes.Count; i++)
        {
            PerceptualHash hash = hashes[i] ?? throw new ArgumentException($"Hash {i} is null.", nameof(hashes));
            if (hash.BitCount != bits)
                throw new ArgumentException($"Hash {i} has {hash.BitCount} bits, hash 0 has {bits}; one index holds one kind of hash.", nameof(hashes));
            hash.Bytes.CopyTo(codes.AsSpan(i * size, size));
        }
        return codes;
    }

    /// <summary>Turns consecutive codes back into hashes (the inverse of <see cref="Pack"/>).</summary>
    /// <param name="codes">Whole codes of ⌈<paramref name="hashBits"/> / 8⌉ bytes.</param>
    /// <param name="hashBits">Bits per hash.</param>
    /// <exception cref="ArgumentException">The byte count is not a whole number of codes.</exception>
    public static PerceptualHash[] Unpack(ReadOnlySpan<byte> codes, int hashBits)
    {
        int size = IndexBits(hashBits) / 8;
        if (codes.Length % size != 0)
            throw new ArgumentException($"Expected whole codes of {size} bytes for {hashBits}-bit hashes; got {codes.Length} bytes.", nameof(codes));
        var hashes = new PerceptualHash[codes.Length / size];
        for (int i = 0; i < hashes.Length; i++)
            hashes[i] = new PerceptualHash(codes.Slice(i * size, size), hashBits);
        return hashes;
    }
}
