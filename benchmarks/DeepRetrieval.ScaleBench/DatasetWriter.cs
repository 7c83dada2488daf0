using System.Diagnostics;
using DeepRetrieval.Data;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.ScaleBench;

/// <summary>
/// Writes a <see cref="MixtureGenerator"/> data set as <c>DIR/base.fvecs</c>, <c>query.fvecs</c> and
/// <c>groundtruth.ivecs</c> (the exact <see cref="Depth"/> nearest base rows of every query, L2), in one streamed
/// pass: each chunk of base rows is generated, appended to the file, searched exactly by a <see cref="FlatIndex"/>
/// over that chunk alone, and merged into the running nearest lists. Memory stays at one chunk whatever the size.
/// </summary>
internal static class DatasetWriter
{
    /// <summary>Neighbours kept per query, as ann-benchmarks stores.</summary>
    public const int Depth = 100;

    public static void Write(string directory, long count, int dimension, int queryCount, int clusters, int seed, int chunkRows)
    {
        Directory.CreateDirectory(directory);
        var queries = new float[(long)queryCount * dimension];
        new MixtureGenerator(dimension, clusters, seed, queries: true).Next(queries);
        VecsWriter.WriteFvecs(Path.Combine(directory, "query.fvecs"), queries, dimension);

        int depth = (int)Math.Min(Depth, count);
        var bestIds = new long[queryCount * depth];
        var bestDistances = new float[bestIds.Length];
        bestDistances.AsSpan().Fill(float.PositiveInfinity);
        bestIds.AsSpan().Fill(-1);
        var chunkIds = new long[bestIds.Length];
        var chunkDistances = new float[bestIds.Length];
        var merged = new (float Distance, long Id)[2 * depth];

        var generator = new MixtureGenerator(dimension, clusters, seed, queries: false);
        var chunk = new float[(long)Math.Min(chunkRows, count) * dimension];
        var search = new SearchOptions { MaxDegreeOfParallelism = 0 };
        long start = Stopwatch.GetTimestamp();
        using (var output = new FileStream(Path.Combine(directory, "base.fvecs"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            for (long done = 0; done < count; done += chunkRows)
            {
                int rows = (int)Math.Min(chunkRows, count - done);
                Span<float> values = chunk.AsSpan(0, rows * dimension);
                generator.Next(values);
                VecsWriter.WriteFvecs(output, values, dimension);

                var exact = new FlatIndex(dimension);
                exact.Add(values);
                int kChunk = Math.Min(depth, rows);
                exact.Search(queries, kChunk, chunkIds.AsSpan(0, queryCount * kChunk), chunkDistances.AsSpan(0, queryCount * kChunk), search);
                for (int q = 0; q < queryCount; q++)
                    Merge(bestIds.AsSpan(q * depth, depth), bestDistances.AsSpan(q * depth, depth),
                        chunkIds.AsSpan(q * kChunk, kChunk), chunkDistances.AsSpan(q * kChunk, kChunk), done, merged);
                Console.Error.WriteLine($"{done + rows:N0} / {count:N0} rows, {Stopwatch.GetElapsedTime(start).TotalSeconds:F0} s");
            }
        }

        var truth = new int[bestIds.Length];
        for (int i = 0; i < truth.Length; i++) truth[i] = checked((int)bestIds[i]);
        VecsWriter.WriteIvecs(Path.Combine(directory, "groundtruth.ivecs"), truth, depth);
    }

    // Keeps the `best.Length` nearest of the running list and this chunk's list (ids offset by the chunk's first
    // row), nearest first, ties broken by the smaller id, as FlatIndex ranks.
    private static void Merge(Span<long> bestIds, Span<float> bestDistances, ReadOnlySpan<long> ids, ReadOnlySpan<float> distances,
        long offset, (float Distance, long Id)[] scratch)
    {
        int n = 0;
        for (int i = 0; i < bestIds.Length; i++)
            if (bestIds[i] >= 0) scratch[n++] = (bestDistances[i], bestIds[i]);
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] >= 0) scratch[n++] = (distances[i], ids[i] + offset);
        Array.Sort(scratch, 0, n, Comparer<(float Distance, long Id)>.Create((a, b) =>
            a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Id.CompareTo(b.Id)));
        for (int i = 0; i < bestIds.Length; i++)
            (bestDistances[i], bestIds[i]) = i < n ? scratch[i] : (float.PositiveInfinity, -1);
    }
}
