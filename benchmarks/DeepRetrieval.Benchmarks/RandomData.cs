namespace DeepRetrieval.Benchmarks;

/// <summary>Seeded random inputs, so every run measures the same data.</summary>
internal static class RandomData
{
    public static float[] Floats(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle();
        return values;
    }

    public static byte[] Bytes(int count, int seed)
    {
        var values = new byte[count];
        new Random(seed).NextBytes(values);
        return values;
    }
}
