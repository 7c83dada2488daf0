namespace DeepRetrieval.Torch;

/// <summary>
/// The SplitMix64 generator (Steele, Lea &amp; Flood 2014): tiny, fast, fully specified, so seeded hashes and batches are the
/// same on every runtime and can be worked out by hand, which <see cref="Random"/> does not promise across .NET versions.
/// </summary>
internal struct SplitMix64
{
    private ulong _state;

    /// <summary>Starts the generator at <paramref name="state"/>.</summary>
    public SplitMix64(ulong state) => _state = state;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        unchecked
        {
            _state += 0x9E3779B97F4A7C15UL;
            ulong z = _state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>A value in [0, <paramref name="bound"/>): the next output modulo the bound (bias below 2⁻⁴⁰ for any bound used here).</summary>
    public int NextBelow(int bound) => (int)(Next() % (ulong)bound);
}
