using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using DeepRetrieval.Data;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// Exact neighbours computed once with <see cref="FlatIndex"/> on all cores and cached as <c>.ivecs</c>. The cache
/// file name carries a hash of the base vectors, the queries and the metric, so changed data never reuses stale
/// ground truth.
/// </summary>
internal static class GroundTruth
{
    /// <summary>Ground-truth depth: deep enough for recall@k up to 100 whatever --k is, as ann-benchmarks stores.</summary>
    public static int DepthFor(int k) => Math.Max(k, 100);

    public static VectorSet<int> GetOrCompute(string datasetName, Metric metric, VectorSet<float> baseVectors, VectorSet<float> queries,
        int depth, string cacheDir, ILogger log)
    {
        depth = Math.Min(depth, baseVectors.Count);
        string path = Path.Combine(cacheDir, $"{datasetName}.q{queries.Count}.gt{depth}.{Fingerprint(metric, baseVectors, queries):x16}.ivecs");
        if (File.Exists(path))
        {
            try
            {
                VectorSet<int> cached = VecsReader.ReadIvecs(path);
                if (cached.Count == queries.Count && cached.Dimension == depth)
                {
                    log.LogInformation("{Message}", $"Ground truth: cached {path}");
                    return cached;
                }
                log.LogInformation("{Message}", $"Ground truth: ignoring {path} ({cached.Count} × {cached.Dimension}, expected {queries.Count} × {depth}).");
            }
            catch (InvalidDataException e)
            {
                log.LogInformation("{Message}", $"Ground truth: ignoring unreadable {path}: {e.Message}");
            }
        }

        log.LogInformation("{Message}", $"Ground truth: computing {depth} exact neighbours of {queries.Count:N0} queries with Flat on {Environment.ProcessorCount} threads");
        long start = Stopwatch.GetTimestamp();
        var index = new FlatIndex(baseVectors.Dimension, metric);
        index.Add(baseVectors.Data);
        var ids = new long[(long)queries.Count * depth];
        var distances = new float[ids.Length];
        index.Search(queries.Data, depth, ids, distances, new SearchOptions { MaxDegreeOfParallelism = 0 });
        log.LogInformation("Ground truth: computed in {Seconds:F1} s", Stopwatch.GetElapsedTime(start).TotalSeconds);

        var truth = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++) truth[i] = checked((int)ids[i]);
        try
        {
            Directory.CreateDirectory(cacheDir);
            VecsWriter.WriteIvecs(path, truth, depth);
            log.LogInformation("{Message}", $"Ground truth: cached as {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogInformation("{Message}", $"Ground truth: could not write the cache {path} ({e.Message}); continuing without it.");
        }
        return new VectorSet<int>(queries.Count, depth, truth);
    }

    private static ulong Fingerprint(Metric metric, VectorSet<float> baseVectors, VectorSet<float> queries)
    {
        var hash = new XxHash3();
        Span<byte> header = stackalloc byte[16];
        BitConverter.TryWriteBytes(header, (int)metric);
        BitConverter.TryWriteBytes(header[4..], baseVectors.Dimension);
        BitConverter.TryWriteBytes(header[8..], baseVectors.Count);
        BitConverter.TryWriteBytes(header[12..], queries.Count);
        hash.Append(header);
        hash.Append(MemoryMarshal.AsBytes(baseVectors.Data.AsSpan()));
        hash.Append(MemoryMarshal.AsBytes(queries.Data.AsSpan()));
        return hash.GetCurrentHashAsUInt64();
    }
}
