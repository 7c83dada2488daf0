using System.Diagnostics;

namespace DeepRetrieval.Evaluation;

/// <summary>Times search runs with <see cref="Stopwatch"/> and reports queries per second.</summary>
/// <remarks>
/// Wall-clock time on a shared machine is noisy: run warm-ups so the JIT and caches settle, and
/// repeat a measurement rather than trusting one. For rigorous numbers use BenchmarkDotNet.
/// </remarks>
public static class Throughput
{
    /// <summary>
    /// Times one call of <paramref name="search"/> that runs <paramref name="queryCount"/> queries, for
    /// example a batched <c>Search</c> over a query matrix.
    /// </summary>
    /// <param name="queryCount">Queries one call of <paramref name="search"/> runs; positive.</param>
    /// <param name="search">The work to time.</param>
    /// <param name="warmupRuns">Untimed calls made first, so JIT compilation and cold caches are not measured.</param>
    /// <returns>The timed call's throughput.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="search"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queryCount"/> is not positive or <paramref name="warmupRuns"/> is negative.</exception>
    public static ThroughputResult MeasureBatch(long queryCount, Action search, int warmupRuns = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryCount);
        ArgumentNullException.ThrowIfNull(search);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupRuns);
        for (int i = 0; i < warmupRuns; i++)
            search();
        long start = Stopwatch.GetTimestamp();
        search();
        return new ThroughputResult(queryCount, Stopwatch.GetElapsedTime(start));
    }

    /// <summary>
    /// Times a loop that calls <paramref name="searchQuery"/> once for each query index
    /// 0..<paramref name="queryCount"/> − 1, one query at a time.
    /// </summary>
    /// <param name="queryCount">Queries to run; positive.</param>
    /// <param name="searchQuery">Runs the query with the given index.</param>
    /// <param name="warmupQueries">Untimed calls made first, with indexes 0..warmupQueries − 1 (wrapping around
    /// <paramref name="queryCount"/>), so JIT compilation and cold caches are not measured.</param>
    /// <returns>The timed loop's throughput.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="searchQuery"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queryCount"/> is not positive or <paramref name="warmupQueries"/> is negative.</exception>
    public static ThroughputResult MeasureLoop(int queryCount, Action<int> searchQuery, int warmupQueries = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryCount);
        ArgumentNullException.ThrowIfNull(searchQuery);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupQueries);
        for (int i = 0; i < warmupQueries; i++)
            searchQuery(i % queryCount);
        long start = Stopwatch.GetTimestamp();
        for (int q = 0; q < queryCount; q++)
            searchQuery(q);
        return new ThroughputResult(queryCount, Stopwatch.GetElapsedTime(start));
    }
}
