using DeepRetrieval.Data;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// Seeded clustered Gaussian data: <see cref="ClusterCount"/> centres drawn from N(0, 1) per component, each vector a
/// random centre plus N(0, <see cref="Spread"/>²) noise. Queries come from the same mixture.
/// </summary>
internal static class SyntheticData
{
    public const int ClusterCount = 100;
    public const int QueryCount = 1000;
    public const float Spread = 0.5f;

    public static (VectorSet<float> Base, VectorSet<float> Queries) Generate(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        int clusters = Math.Min(ClusterCount, count);
        var centres = new float[clusters * dimension];
        FillNormal(random, centres, 1f);
        return (Sample(random, centres, clusters, count, dimension), Sample(random, centres, clusters, QueryCount, dimension));
    }

    private static VectorSet<float> Sample(Random random, float[] centres, int clusters, int count, int dimension)
    {
        var data = new float[(long)count * dimension];
        for (int i = 0; i < count; i++)
        {
            Span<float> row = data.AsSpan(i * dimension, dimension);
            FillNormal(random, row, Spread);
            ReadOnlySpan<float> centre = centres.AsSpan(random.Next(clusters) * dimension, dimension);
            for (int j = 0; j < dimension; j++) row[j] += centre[j];
        }
        return new VectorSet<float>(count, dimension, data);
    }

    // Box–Muller: two independent normal samples per pair of uniforms.
    internal static void FillNormal(Random random, Span<float> values, float sigma)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double radius = sigma * Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
        }
    }
}
