namespace DeepRetrieval.Tests;

/// <summary>Seeded data generators shared by the tests.</summary>
internal static class TestData
{
    public static float[] Gaussian(int rows, int dimension, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var data = new float[rows * dimension];
        for (int i = 0; i < data.Length; i++)
            data[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return data;
    }

    /// <summary>Points around <paramref name="clusters"/> random centres, for recall tests.</summary>
    public static float[] Clustered(int rows, int dimension, int clusters, int seed)
    {
        float[] centres = Gaussian(clusters, dimension, seed, 5f);
        float[] noise = Gaussian(rows, dimension, seed + 1);
        var random = new Random(seed + 2);
        for (int r = 0; r < rows; r++)
        {
            int c = random.Next(clusters);
            for (int j = 0; j < dimension; j++) noise[r * dimension + j] += centres[c * dimension + j];
        }
        return noise;
    }
}
