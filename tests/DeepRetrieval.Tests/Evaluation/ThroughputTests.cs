using DeepRetrieval.Evaluation;

namespace DeepRetrieval.Tests.Evaluation;

public class ThroughputTests
{
    [Fact]
    public void ThroughputResult_ComputesRatesFromCountAndTime()
    {
        // 1,000 queries in 2 s: 1000 / 2 = 500 QPS, 2 s / 1000 = 2 ms per query.
        var result = new ThroughputResult(1000, TimeSpan.FromSeconds(2));
        result.QueriesPerSecond.Should().Be(500);
        result.TimePerQuery.Should().Be(TimeSpan.FromMilliseconds(2));
        result.ToString().Should().Be("500.0 QPS (1,000 queries in 2.000 s, 2000.00 µs/query)");
    }

    [Fact]
    public void ThroughputResult_IsInfinite_WhenNoTimeElapsed()
    {
        new ThroughputResult(10, TimeSpan.Zero).QueriesPerSecond.Should().Be(double.PositiveInfinity);
    }

    [Fact]
    public void ThroughputResult_Throws_OnBadArguments()
    {
        Action noQueries = () => _ = new ThroughputResult(0, TimeSpan.FromSeconds(1));
        Action negativeTime = () => _ = new ThroughputResult(1, TimeSpan.FromSeconds(-1));
        noQueries.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("queryCount");
        negativeTime.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("elapsed");
    }

    [Fact]
    public void MeasureLoop_RunsEachQueryOnceAfterTheWarmup()
    {
        var calls = new List<int>();
        ThroughputResult result = Throughput.MeasureLoop(4, calls.Add, warmupQueries: 6);

        // Warm-up wraps around the 4 queries (0, 1, 2, 3, 0, 1), then the timed loop runs 0..3 once.
        calls.Should().Equal(0, 1, 2, 3, 0, 1, 0, 1, 2, 3);
        result.QueryCount.Should().Be(4);
        result.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
    }

    [Fact]
    public void MeasureBatch_TimesOnlyTheMeasuredCall()
    {
        int calls = 0;
        ThroughputResult result = Throughput.MeasureBatch(
            50,
            () =>
            {
                calls++;
                if (calls > 2)
                    Thread.Sleep(20);
            },
            warmupRuns: 2);

        // Two quick warm-ups, then one timed call that sleeps ≥ 20 ms: QPS ≤ 50 / 0.02 = 2,500.
        calls.Should().Be(3);
        result.QueryCount.Should().Be(50);
        result.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(15));
        result.QueriesPerSecond.Should().BeApproximately(50 / result.Elapsed.TotalSeconds, 1e-9);
    }

    [Fact]
    public void Measure_Throws_OnBadArguments()
    {
        Action nullBatch = () => Throughput.MeasureBatch(1, null!);
        Action nullLoop = () => Throughput.MeasureLoop(1, null!);
        Action noQueries = () => Throughput.MeasureLoop(0, _ => { });
        Action negativeWarmup = () => Throughput.MeasureBatch(1, () => { }, -1);
        nullBatch.Should().Throw<ArgumentNullException>().WithParameterName("search");
        nullLoop.Should().Throw<ArgumentNullException>().WithParameterName("searchQuery");
        noQueries.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("queryCount");
        negativeWarmup.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("warmupRuns");
    }
}
