namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// The generator an <see cref="IImageAugmentation"/> receives: SplitMix64 started from a hash of (seed, epoch, position), so
/// sample <c>position</c> of epoch <c>epoch</c> gets the same numbers on any thread, in any order, on any runtime (the seeded
/// <see cref="Random"/> of .NET promises no stream across versions). Every <see cref="Random"/> member draws from it.
/// </summary>
internal sealed class SampleRandom : Random
{
    private SplitMix64 _bits;

    public SampleRandom(long seed, long epoch, long position)
    {
        // Each coordinate goes through the SplitMix64 finaliser before the next is mixed in, so nearby keys give unrelated streams.
        ulong key = Mix((ulong)seed);
        key = Mix(key ^ (ulong)epoch);
        key = Mix(key ^ (ulong)position);
        _bits = new SplitMix64(key);
    }

    /// <summary>A uniform double in [0, 1) from the top 53 bits.</summary>
    public override double NextDouble() => (_bits.Next() >> 11) * (1.0 / (1UL << 53));

    public override float NextSingle() => (_bits.Next() >> 40) * (1f / (1 << 24));

    public override int Next() => (int)Below(int.MaxValue);

    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return maxValue <= 1 ? 0 : (int)Below((ulong)maxValue);
    }

    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return (int)(minValue + (long)Below((ulong)((long)maxValue - minValue)));
    }

    public override long NextInt64() => (long)Below(long.MaxValue);

    public override long NextInt64(long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return maxValue <= 1 ? 0 : (long)Below((ulong)maxValue);
    }

    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue + (long)Below((ulong)(maxValue - minValue));
    }

    public override void NextBytes(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        NextBytes(buffer.AsSpan());
    }

    public override void NextBytes(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i += 8)
        {
            ulong bits = _bits.Next();
            for (int j = i; j < Math.Min(i + 8, buffer.Length); j++, bits >>= 8)
                buffer[j] = (byte)bits;
        }
    }

    protected override double Sample() => NextDouble();

    // Lemire's multiply-shift with rejection: exactly uniform in [0, bound).
    private ulong Below(ulong bound)
    {
        if (bound == 0) return 0;
        ulong threshold = (0 - bound) % bound;
        while (true)
        {
            ulong high = Math.BigMul(_bits.Next(), bound, out ulong low);
            if (low >= threshold) return high;
        }
    }

    // The SplitMix64 finaliser of z: the first output of a generator started at z.
    private static ulong Mix(ulong z) => new SplitMix64(z).Next();
}
