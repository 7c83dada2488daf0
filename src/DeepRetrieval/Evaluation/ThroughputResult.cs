using System.Globalization;

namespace DeepRetrieval.Evaluation;

/// <summary>How many queries ran in how much wall-clock time, and the rates derived from that.</summary>
public readonly record struct ThroughputResult
{
    /// <summary>Creates a result from a query count and the wall-clock time they took.</summary>
    /// <param name="queryCount">Queries run; positive.</param>
    /// <param name="elapsed">Wall-clock time of the whole run; not negative.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queryCount"/> is not positive or <paramref name="elapsed"/> is negative.</exception>
    public ThroughputResult(long queryCount, TimeSpan elapsed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryCount);
        if (elapsed < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(elapsed), elapsed, "elapsed must not be negative.");
        QueryCount = queryCount;
        Elapsed = elapsed;
    }

    /// <summary>Queries run.</summary>
    public long QueryCount { get; }

    /// <summary>Wall-clock time of the whole run.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// Queries per second, <c>QueryCount / Elapsed.TotalSeconds</c>; <see cref="double.PositiveInfinity"/>
    /// when the run was too short for the clock to see.
    /// </summary>
    public double QueriesPerSecond => Elapsed == TimeSpan.Zero ? double.PositiveInfinity : QueryCount / Elapsed.TotalSeconds;

    /// <summary>
    /// Wall-clock time per query, <c>Elapsed / QueryCount</c>. For a batched, multi-threaded search this
    /// is the inverse of throughput, not the latency one query sees.
    /// </summary>
    public TimeSpan TimePerQuery => Elapsed / QueryCount;

    /// <summary>Formats the result, for example <c>12,345.7 QPS (10,000 queries in 0.810 s, 81.00 µs/query)</c>.</summary>
    /// <returns>The formatted result, using the invariant culture.</returns>
    public override string ToString()
    {
        double perQueryMicroseconds = Elapsed.TotalMilliseconds * 1000.0 / QueryCount;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{QueriesPerSecond:N1} QPS ({QueryCount:N0} queries in {Elapsed.TotalSeconds:F3} s, {perQueryMicroseconds:F2} µs/query)");
    }
}
