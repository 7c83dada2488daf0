using System.Runtime.Intrinsics;
using DeepRetrieval.Distances;

namespace DeepRetrieval.Clustering;

/// <summary>The update step of Lloyd's algorithm and the repair of empty clusters.</summary>
internal static unsafe class CentroidUpdate
{
    // Faiss's split perturbation: small enough to keep both copies inside the cluster, large enough to survive
    // float rounding.
    private const float Epsilon = 1f / 1024f;

    /// <summary>
    /// Sets each non-empty centroid to the mean of its points and fills <paramref name="counts"/>; empty clusters
    /// keep their old centroid for <see cref="SplitEmpty"/>.
    /// </summary>
    public static void ComputeMeans(float* x, int n, int d, int[] assignment, int k, float[] centroids, int[] counts, double[] sums, int threads)
    {
        Array.Clear(counts);
        foreach (int a in assignment.AsSpan(0, n)) counts[a]++;
        int parts = Math.Max(1, Math.Min(threads, k));
        var job = new MeansJob(x, n, d, assignment, k, centroids, counts, sums, parts);
        if (parts == 1) job.Run(0);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, job.Run);
    }

    /// <summary>
    /// Refills every empty cluster from the currently largest one (lowest index on ties): the empty centroid
    /// becomes a copy of the large one, the two copies are pushed apart by ±1/1024 of each component with
    /// alternating signs (Faiss's perturbation), the large cluster's points go to the nearer copy, and both
    /// centroids become the means of their points. When the perturbation separates nothing (identical points,
    /// or a zero centroid) the points are dealt out alternately instead, so both clusters are non-empty.
    /// No randomness: the result depends only on the assignment.
    /// </summary>
    /// <returns>The number of clusters split.</returns>
    public static int SplitEmpty(float* x, int n, int d, int[] assignment, int[] counts, float[] centroids, Metric metric)
    {
        int k = counts.Length, splits = 0;
        for (int empty = 0; empty < k; empty++)
        {
            if (counts[empty] != 0) continue;
            int largest = 0;
            for (int c = 1; c < k; c++)
                if (counts[c] > counts[largest]) largest = c;
            int members = counts[largest];
            if (members < 2) break; // more clusters than points: nothing to split (Train rules this out)

            Span<float> copy = centroids.AsSpan(empty * d, d), source = centroids.AsSpan(largest * d, d);
            source.CopyTo(copy);
            for (int t = 0; t < d; t++)
            {
                float sign = t % 2 == 0 ? 1f : -1f;
                copy[t] *= 1f + sign * Epsilon;
                source[t] *= 1f - sign * Epsilon;
            }

            int moved = 0;
            for (int i = 0; i < n; i++)
            {
                if (assignment[i] != largest) continue;
                var row = new ReadOnlySpan<float>(x + (long)i * d, d);
                bool nearerCopy = metric == Metric.L2
                    ? Distance.SquaredL2(row, copy) < Distance.SquaredL2(row, source)
                    : Distance.InnerProduct(row, copy) > Distance.InnerProduct(row, source);
                if (nearerCopy)
                {
                    assignment[i] = empty;
                    moved++;
                }
            }
            if (moved == 0 || moved == members)
            {
                int rank = 0;
                for (int i = 0; i < n; i++)
                    if (assignment[i] == largest || assignment[i] == empty)
                        assignment[i] = rank++ % 2 == 1 ? empty : largest;
                moved = members / 2;
            }
            counts[empty] = moved;
            counts[largest] = members - moved;
            Mean(x, n, d, assignment, empty, copy);
            Mean(x, n, d, assignment, largest, source);
            splits++;
        }
        return splits;
    }

    private static void Mean(float* x, int n, int d, int[] assignment, int cluster, Span<float> centroid)
    {
        var sum = new double[d];
        int count = 0;
        fixed (double* s = sum)
        {
            for (int i = 0; i < n; i++)
            {
                if (assignment[i] != cluster) continue;
                AddWidened(x + (long)i * d, s, d);
                count++;
            }
        }
        for (int t = 0; t < d; t++) centroid[t] = (float)(sum[t] / count);
    }

    // Sums in double: a float sum of 60 000 pixel values near 255 would already lose the low bits of each term.
    private static void AddWidened(float* row, double* sum, int d)
    {
        int t = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; t <= d - 16; t += 16)
            {
                var (lower, upper) = Vector512.Widen(Vector512.Load(row + t));
                (Vector512.Load(sum + t) + lower).Store(sum + t);
                (Vector512.Load(sum + t + 8) + upper).Store(sum + t + 8);
            }
        }
        for (; t < d; t++) sum[t] += row[t];
    }

    // Part p owns a contiguous range of centroids and scans every point, as Faiss's compute_centroids does, so
    // each centroid adds its points in index order whatever the thread count: 1 and 8 threads give the same bits.
    private sealed class MeansJob(float* x, int n, int d, int[] assignment, int k, float[] centroids, int[] counts, double[] sums, int parts)
    {
        public void Run(int part)
        {
            int c0 = (int)((long)k * part / parts), c1 = (int)((long)k * (part + 1) / parts);
            Array.Clear(sums, c0 * d, (c1 - c0) * d);
            fixed (double* s = sums)
            {
                for (int i = 0; i < n; i++)
                {
                    int a = assignment[i];
                    if (a >= c0 && a < c1) AddWidened(x + (long)i * d, s + (long)a * d, d);
                }
            }
            for (int c = c0; c < c1; c++)
            {
                if (counts[c] == 0) continue;
                double inverse = 1.0 / counts[c];
                for (int t = 0; t < d; t++) centroids[c * d + t] = (float)(sums[c * d + t] * inverse);
            }
        }
    }
}
