using DeepRetrieval.Distances;

namespace DeepRetrieval.Clustering;

/// <summary>Starting centroids: random distinct points or k-means++, both driven by a seeded <see cref="Random"/>.</summary>
internal static unsafe class KMeansSeeding
{
    private const int Chunk = 2048; // points per parallel work item; fixed so results do not depend on threads

    /// <summary><paramref name="m"/> distinct indices below <paramref name="n"/>, uniformly (partial Fisher–Yates).</summary>
    public static int[] SampleDistinct(int n, int m, Random random)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = 0; i < m; i++)
        {
            int j = random.Next(i, n);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..m];
    }

    public static void RandomRows(float* x, int n, int d, int k, Random random, float[] centroids)
    {
        int[] chosen = SampleDistinct(n, k, random);
        for (int c = 0; c < k; c++)
            new ReadOnlySpan<float>(x + (long)chosen[c] * d, d).CopyTo(centroids.AsSpan(c * d, d));
    }

    /// <summary>
    /// D² sampling. Each point keeps its squared distance to, and the index of, its nearest chosen centroid. A new
    /// centroid c can only bring x closer if ‖c − a‖ &lt; 2‖x − a‖ for x's current nearest a (triangle
    /// inequality), so other points are skipped without reading them: exact, and most of the data is skipped once
    /// a few dozen centroids exist.
    /// </summary>
    public static void PlusPlus(float* x, int n, int d, int k, Random random, float[] centroids, int threads)
    {
        var nearestDistance = new float[n];
        var nearest = new int[n];
        var gap = new float[k];
        int chunks = (n + Chunk - 1) / Chunk;
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(threads, chunks)) };

        int first = random.Next(n);
        new ReadOnlySpan<float>(x + (long)first * d, d).CopyTo(centroids.AsSpan(0, d));
        var job = new UpdateJob(x, n, d, centroids, nearestDistance, nearest, gap);
        nearestDistance.AsSpan().Fill(float.PositiveInfinity);
        job.Centroid = 0;
        RunChunks(job, chunks, options);

        for (int c = 1; c < k; c++)
        {
            double total = 0;
            foreach (float v in nearestDistance) total += v;
            int pick;
            if (total <= 0)
            {
                pick = random.Next(n); // every point sits on a chosen centroid: any choice is as good
            }
            else
            {
                double target = random.NextDouble() * total, cumulative = 0;
                pick = -1;
                int lastPositive = 0;
                for (int i = 0; i < n; i++)
                {
                    if (nearestDistance[i] <= 0) continue;
                    lastPositive = i;
                    cumulative += nearestDistance[i];
                    if (cumulative > target)
                    {
                        pick = i;
                        break;
                    }
                }
                if (pick < 0) pick = lastPositive; // rounding left the target just past the running sum
            }
            Span<float> centroid = centroids.AsSpan(c * d, d);
            new ReadOnlySpan<float>(x + (long)pick * d, d).CopyTo(centroid);
            for (int a = 0; a < c; a++) gap[a] = Distance.SquaredL2(centroid, centroids.AsSpan(a * d, d));
            job.Centroid = c;
            RunChunks(job, chunks, options);
        }
    }

    private static void RunChunks(UpdateJob job, int chunks, ParallelOptions options)
    {
        if (chunks == 1 || options.MaxDegreeOfParallelism == 1)
            for (int i = 0; i < chunks; i++) job.Run(i);
        else
            Parallel.For(0, chunks, options, job.Run);
    }

    private sealed class UpdateJob(float* x, int n, int d, float[] centroids, float[] nearestDistance, int[] nearest, float[] gap)
    {
        public int Centroid { get; set; }

        public void Run(int chunk)
        {
            int c = Centroid, end = Math.Min(n, (chunk + 1) * Chunk);
            var centroid = new ReadOnlySpan<float>(centroids, c * d, d);
            for (int i = chunk * Chunk; i < end; i++)
            {
                float current = nearestDistance[i];
                if (c > 0 && gap[nearest[i]] > 4f * current) continue;
                float distance = Distance.SquaredL2(new ReadOnlySpan<float>(x + (long)i * d, d), centroid);
                if (distance < current)
                {
                    nearestDistance[i] = distance;
                    nearest[i] = c;
                }
            }
        }
    }
}
