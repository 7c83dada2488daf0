using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Ivf;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>Progress, cancellation and warnings of long <c>Train</c> and <c>Add</c> calls, through <see cref="IndexBuildOptions"/>.</summary>
public class IndexBuildOptionsTests
{
    private const int D = 16;

    private sealed class Recorder(Action<IndexProgress>? then = null) : IProgress<IndexProgress>
    {
        public List<IndexProgress> Reports { get; } = [];

        public void Report(IndexProgress value)
        {
            Reports.Add(value);
            then?.Invoke(value);
        }
    }

    [Fact]
    public void Add_ReportsEachChunk_InOrder()
    {
        var index = new FlatIndex(D);
        var progress = new Recorder();
        index.Add(TestData.Gaussian(1000, D, 1), new IndexBuildOptions { Progress = progress, ChunkRows = 300 });
        progress.Reports.Should().Equal(new IndexProgress("add", 300, 1000), new IndexProgress("add", 600, 1000),
            new IndexProgress("add", 900, 1000), new IndexProgress("add", 1000, 1000));
        progress.Reports[^1].Fraction.Should().Be(1.0);
        index.Count.Should().Be(1000);
    }

    [Theory]
    [InlineData("Flat")]
    [InlineData("HNSW8")]
    [InlineData("IVF4,SQ8")]
    public void ACancelledAdd_KeepsTheFinishedChunks_AsAPrefixOfTheBatch(string description)
    {
        float[] data = TestData.Gaussian(1000, D, 2);
        IVectorIndex index = IndexFactory.Create(D, description);
        if (!index.IsTrained) index.Train(data);
        using var cancel = new CancellationTokenSource();
        var progress = new Recorder(p => { if (p.Completed >= 200) cancel.Cancel(); });
        var options = new IndexBuildOptions { Progress = progress, CancellationToken = cancel.Token, ChunkRows = 100 };

        FluentActions.Invoking(() => index.Add(data, options)).Should().Throw<OperationCanceledException>().WithMessage("*after 200 of 1000 rows*");
        index.Count.Should().Be(200);
        index.GetIds().Order().Should().Equal(Enumerable.Range(0, 200).Select(i => (long)i));
        // The next automatic id picks up where the cancelled add stopped.
        index.Add(data.AsSpan(200 * D, 10 * D)).Should().Be(200);

        // With the caller's ids the prefix is the same; the rest can be added again later.
        long[] ids = Enumerable.Range(5000, 300).Select(i => (long)i).ToArray();
        using var again = new CancellationTokenSource();
        var second = new IndexBuildOptions { Progress = new Recorder(p => again.Cancel()), CancellationToken = again.Token, ChunkRows = 100 };
        FluentActions.Invoking(() => index.Add(data.AsSpan(0, 300 * D), ids, second)).Should().Throw<OperationCanceledException>();
        index.Contains(5099).Should().BeTrue();
        index.Contains(5100).Should().BeFalse();
        index.Add(data.AsSpan(100 * D, 200 * D), ids.AsSpan(100));
        index.Count.Should().Be(510);
    }

    [Fact]
    public void AChunkedAdd_StillFindsBadInputAnywhereInTheBatch_BeforeAddingAnything()
    {
        var index = new FlatIndex(D, Metric.Cosine);
        float[] data = TestData.Gaussian(500, D, 3);
        var options = new IndexBuildOptions { Progress = new Recorder(), ChunkRows = 100 };
        long[] ids = Enumerable.Range(0, 500).Select(i => (long)i).ToArray();
        ids[450] = 7;
        FluentActions.Invoking(() => index.Add(data, ids, options)).Should().Throw<ArgumentException>().WithMessage("*Id 7 appears twice*");
        float[] zero = data.ToArray();
        Array.Clear(zero, 480 * D, D);
        FluentActions.Invoking(() => index.Add(zero, options)).Should().Throw<ArgumentException>().WithMessage("*Row 480 is the zero vector*");
        index.Count.Should().Be(0);
        index.NextId.Should().Be(0, "a failed add gives its automatic ids back");
    }

    [Fact]
    public void AnAlreadyCancelledToken_AddsAndTrainsNothing()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var options = new IndexBuildOptions { CancellationToken = cancelled.Token };
        var flat = new FlatIndex(D);
        FluentActions.Invoking(() => flat.Add(TestData.Gaussian(10, D, 4), options)).Should().Throw<OperationCanceledException>();
        flat.Count.Should().Be(0);
        IVectorIndex ivf = IndexFactory.Create(D, "IVF4,Flat");
        FluentActions.Invoking(() => ivf.Train(TestData.Gaussian(100, D, 4), options)).Should().Throw<OperationCanceledException>();
        ivf.IsTrained.Should().BeFalse();
    }

    [Fact]
    public void IvfTraining_ReportsKMeansIterations_AndWarnsWhenPointsPerListAreFewerThanFaissAsks()
    {
        var log = new ListLogger();
        var progress = new Recorder();
        IVectorIndex index = IndexFactory.Create(D, "IVF32,Flat");
        index.Train(TestData.Clustered(800, D, 32, 5), new IndexBuildOptions { Logger = log, Progress = progress });
        index.IsTrained.Should().BeTrue();
        progress.Reports.Should().NotBeEmpty().And.OnlyContain(p => p.Step == "k-means" && p.Total == 10);
        progress.Reports.Select(p => p.Completed).Should().BeInAscendingOrder().And.StartWith(1L);
        // 800 points for 32 centroids: fewer than Faiss's 39 per centroid (1248).
        log.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning && e.Message.Contains("please provide at least 1248 training points", StringComparison.Ordinal));

        var quiet = new ListLogger();
        IndexFactory.Create(D, "IVF4,Flat").Train(TestData.Clustered(800, D, 4, 5), new IndexBuildOptions { Logger = quiet });
        quiet.Entries.Should().NotContain(e => e.Level >= LogLevel.Warning, "200 points per list is enough");
        FluentActions.Invoking(() => IndexFactory.Create(D, "IVF64,Flat").Train(TestData.Gaussian(40, D, 6)))
            .Should().Throw<ArgumentException>().WithMessage("*64 lists needs at least 64 vectors*", "more centroids than points is an error, as in Faiss");
    }

    [Fact]
    public void PqTraining_ReportsEachCodebook_AndWarnsOnFewPoints()
    {
        var log = new ListLogger();
        var progress = new Recorder();
        IVectorIndex index = IndexFactory.Create(D, "PQ4");
        index.Train(TestData.Gaussian(1000, D, 7), new IndexBuildOptions { Logger = log, Progress = progress });
        progress.Reports.Should().Equal(new IndexProgress("PQ codebooks", 1, 4), new IndexProgress("PQ codebooks", 2, 4),
            new IndexProgress("PQ codebooks", 3, 4), new IndexProgress("PQ codebooks", 4, 4));
        // 1000 points for 256 centroids per codebook, fewer than 39 × 256: one warning per codebook, as Faiss prints.
        log.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("9984", StringComparison.Ordinal)).Should().Be(4);
    }

    [Fact]
    public void ATrainingCancelledWhileTheEncodingLearns_LeavesTheIndexUntrained_AndTrainingAgainWorks()
    {
        float[] data = TestData.Clustered(3000, D, 8, 9);
        var index = (IvfIndex)IndexFactory.Create(D, "IVF8,PQ4x4");
        using var cancel = new CancellationTokenSource();
        var options = new IndexBuildOptions { CancellationToken = cancel.Token, Progress = new Recorder(p => { if (p.Step == "PQ codebooks") cancel.Cancel(); }) };
        FluentActions.Invoking(() => index.Train(data, options)).Should().Throw<OperationCanceledException>();
        index.IsTrained.Should().BeFalse();
        FluentActions.Invoking(() => index.Add(data)).Should().Throw<InvalidOperationException>().WithMessage("*Train*");

        index.Train(data);
        index.IsTrained.Should().BeTrue();
        index.CoarseQuantizer.Count.Should().Be(8, "the centroids of the cancelled run were replaced, not added to");
        index.Add(data);

        // Seeded training: the retrained index answers exactly as one trained once.
        var fresh = (IvfIndex)IndexFactory.Create(D, "IVF8,PQ4x4");
        fresh.Train(data);
        fresh.Add(data);
        float[] queries = TestData.Clustered(20, D, 8, 10);
        index.Search(queries, 10, new IvfSearchOptions { Nprobe = 8 }).Ids.Should().Equal(fresh.Search(queries, 10, new IvfSearchOptions { Nprobe = 8 }).Ids);
    }

    [Fact]
    public void PreTransformTraining_ReportsEachPart()
    {
        var progress = new Recorder();
        IVectorIndex index = IndexFactory.Create(D, "PCA8,OPQ4,PQ4x4");
        index.Train(TestData.Gaussian(500, D, 11), new IndexBuildOptions { Progress = progress });
        progress.Reports.Where(p => p.Step == "transforms").Select(p => p.Completed).Should().Equal(1L, 2L, 3L);
        progress.Reports.Should().Contain(p => p.Step == "PQ codebooks", "the inner index reports through the same sink");
    }
}
