using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Trees;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

public class RandomProjectionForestIndexTests
{
    private const int D = 32;

    // Queries come from the same clusters as the data (the centres depend on the seed), held out of the index.
    // Two big clusters: with many small ones the first leaf already holds the whole neighbourhood and every
    // setting scores 1.0, so nothing could show recall rising.
    private static readonly float[] All = TestData.Clustered(4100, D, 2, 31);
    private static readonly float[] Data = All[..(4000 * D)];
    private static readonly float[] Queries = All[(4000 * D)..];

    private static double Recall(SearchResult found, SearchResult truth)
    {
        int hits = 0;
        for (int q = 0; q < truth.QueryCount; q++)
            hits += found.IdsOf(q).ToArray().Intersect(truth.IdsOf(q).ToArray()).Count();
        return hits / (double)truth.Ids.Length;
    }

    private static SearchResult Truth(Metric metric)
    {
        var flat = new FlatIndex(D, metric);
        flat.Add(Data);
        return flat.Search(Queries, 10);
    }

    private static RandomProjectionForestIndex Forest(int trees, Metric metric = Metric.L2, int threads = 2)
    {
        var index = new RandomProjectionForestIndex(D, trees, metric, leafSize: 16) { BuildThreads = threads };
        index.Add(Data);
        return index;
    }

    // Measured: 10 trees at search_k 100 / 400 / 1600 → 0.38 / 0.77 / 0.997; at search_k 400,
    // 2 / 10 / 20 trees → 0.64 / 0.77 / 0.81.
    [Fact]
    public void Recall_RisesWithSearchK()
    {
        SearchResult truth = Truth(Metric.L2);
        RandomProjectionForestIndex forest = Forest(10);
        var recalls = new List<double>();
        foreach (int searchK in new[] { 100, 400, 1600 })
        {
            forest.SetSearchParameter("search_k", searchK);
            recalls.Add(Recall(forest.Search(Queries, 10), truth));
        }
        recalls.Should().BeInAscendingOrder();
        recalls[0].Should().BeLessThan(0.6);
        recalls[^1].Should().BeGreaterThanOrEqualTo(0.95);
        // Every vector a candidate: the exact re-rank finds the exact answer.
        Recall(forest.Search(Queries, 10, new RandomProjectionForestSearchOptions { SearchK = 4000 }), truth).Should().Be(1.0);
    }

    [Fact]
    public void Recall_RisesWithTrees_AtTheSameSearchK()
    {
        SearchResult truth = Truth(Metric.L2);
        var options = new RandomProjectionForestSearchOptions { SearchK = 400 };
        double few = Recall(Forest(2).Search(Queries, 10, options), truth);
        double many = Recall(Forest(20).Search(Queries, 10, options), truth);
        many.Should().BeGreaterThan(few + 0.1);
    }

    [Theory]
    [InlineData(Metric.InnerProduct)]
    [InlineData(Metric.Cosine)]
    public void SimilarityMetrics_ReachHighRecall_AndReportExactSimilarities(Metric metric)
    {
        SearchResult truth = Truth(metric);
        RandomProjectionForestIndex forest = Forest(10, metric);
        SearchResult found = forest.Search(Queries, 10, new RandomProjectionForestSearchOptions { SearchK = 1600 });
        Recall(found, truth).Should().BeGreaterThanOrEqualTo(0.9);
        // The top result is re-ranked exactly, so wherever both agree on the id the similarity matches.
        for (int q = 0; q < truth.QueryCount; q++)
            if (found.IdsOf(q)[0] == truth.IdsOf(q)[0])
                found.DistancesOf(q)[0].Should().BeApproximately(truth.DistancesOf(q)[0], 1e-3f * Math.Max(1f, Math.Abs(truth.DistancesOf(q)[0])));
        for (int q = 0; q < truth.QueryCount; q++)
            found.DistancesOf(q).ToArray().Should().BeInDescendingOrder();
    }

    [Fact]
    public void Build_IsTheSameForOneAndTwoThreads()
    {
        RandomProjectionForestIndex one = Forest(6, threads: 1);
        RandomProjectionForestIndex two = Forest(6, threads: 2);
        one.MemoryUsageBytes.Should().Be(two.MemoryUsageBytes);
        SearchResult a = one.Search(Queries, 10);
        SearchResult b = two.Search(Queries, 10);
        b.Ids.Should().Equal(a.Ids);
        b.Distances.Should().Equal(a.Distances);
        // A different seed gives a different forest, so the equality above is not vacuous.
        var other = new RandomProjectionForestIndex(D, 6, leafSize: 16, seed: 99);
        other.Add(Data);
        other.Search(Queries, 10).Ids.Should().NotEqual(a.Ids);
    }

    [Fact]
    public void Search_PadsWithMissing_WhenKExceedsCount_AndScansTheTail()
    {
        var forest = new RandomProjectionForestIndex(2, 3, leafSize: 1);
        forest.Add([0f, 0f, 4f, 0f, 1f, 0f, 1f, 0f], [10, 11, 12, 13]);
        forest.IndexedCount.Should().Be(4);
        forest.Add([2f, 0f], [14]);
        forest.IndexedCount.Should().Be(4);
        SearchResult result = forest.Search([1f, 0f], 7, new RandomProjectionForestSearchOptions { SearchK = 100 });
        result.Ids.Should().Equal(12L, 13L, 10L, 14L, 11L, -1L, -1L);
        result.Distances[..5].Should().Equal(0f, 0f, 1f, 1f, 9f);
    }

    [Fact]
    public void Remove_RebuildsTheForest_AndRemovedIdsNeverReturn()
    {
        RandomProjectionForestIndex forest = Forest(4);
        long[] gone = Enumerable.Range(0, 2000).Select(i => (long)(2 * i)).ToArray();
        forest.Remove(gone).Should().Be(2000);
        forest.Count.Should().Be(2000);
        forest.IndexedCount.Should().Be(2000);
        SearchResult result = forest.Search(Queries, 10, new RandomProjectionForestSearchOptions { SearchK = 2000 });
        result.Ids.Should().OnlyContain(id => id % 2 == 1);
        FluentActions.Invoking(() => forest.Remove([1, 2])).Should().Throw<KeyNotFoundException>().WithMessage("*2*");
        forest.Count.Should().Be(2000);
    }

    [Fact]
    public void BadArguments_AreRejectedWithClearMessages()
    {
        FluentActions.Invoking(() => new RandomProjectionForestIndex(4, 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new RandomProjectionForestIndex(4, 2, leafSize: -1)).Should().Throw<ArgumentOutOfRangeException>();
        var forest = new RandomProjectionForestIndex(2, 2, Metric.Cosine);
        FluentActions.Invoking(() => forest.SetSearchParameter("ef", 3)).Should().Throw<ArgumentException>().WithMessage("*search_k*");
        FluentActions.Invoking(() => forest.SetSearchParameter("search_k", -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => forest.Add([0f, 0f])).Should().Throw<ArgumentException>().WithMessage("*zero*");
        forest.Count.Should().Be(0);
        forest.Add([1f, 1f]);
        FluentActions.Invoking(() => forest.Search([1f, 1f], 1, new RandomProjectionForestSearchOptions { SearchK = -5 })).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void SingleQuerySearch_AllocatesNothing_OnceWarm()
    {
        var forest = new RandomProjectionForestIndex(4, 3, Metric.Cosine);
        forest.Add(TestData.Gaussian(2000, 4, 21));
        float[] queries = TestData.Gaussian(50, 4, 22);
        var ids = new long[10];
        var distances = new float[10];
        var options = new RandomProjectionForestSearchOptions { MaxDegreeOfParallelism = 1, SearchK = 200 };
        for (int q = 0; q < 50; q++) forest.Search(queries.AsSpan(q * 4, 4), 10, ids, distances, options);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int q = 0; q < 50; q++) forest.Search(queries.AsSpan(q * 4, 4), 10, ids, distances, options);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    // A one-tree forest written by hand: the plane x = 0.5 splits leaves {row 0} and {row 1}.
    private static MemoryStream HandWrittenForest(int firstChild, int secondLeafRow)
    {
        var stream = new MemoryStream();
        IndexFileFormat.Write(stream, RandomProjectionForestIndex.KindName, w =>
        {
            w.WriteInt32(1);
            w.WriteInt32((int)Metric.L2);
            w.WriteInt32(1);
            w.WriteInt32(1);
            w.WriteInt32(5);
            w.WriteInt32(0);
            w.WriteInt64(2);
            w.WriteInt64(2);
            w.WriteInt64(2);
            w.WriteSpan<long>([0, 1]);
            w.WriteSpan<float>([0f, 1f]);
            w.WriteInt64(1);
            w.WriteSpan<float>([1f]);
            w.WriteSpan<float>([-0.5f]);
            w.WriteSpan<int>([firstChild, ~1]);
            w.WriteInt64(1);
            w.WriteSpan<int>([0]);
            w.WriteInt64(2);
            w.WriteSpan<int>([0, 1, 2]);
            w.WriteSpan<int>([0, secondLeafRow]);
        });
        stream.Position = 0;
        return stream;
    }

    [Fact]
    public void Load_RejectsAForestThatCouldLoopOrReadOutOfRange()
    {
        var valid = (RandomProjectionForestIndex)IndexFile.Load(HandWrittenForest(~0, 1));
        valid.Search([0.9f], 2).Ids.Should().Equal(1L, 0L);
        FluentActions.Invoking(() => IndexFile.Load(HandWrittenForest(0, 1))).Should().Throw<InvalidDataException>().WithMessage("*reference*");
        FluentActions.Invoking(() => IndexFile.Load(HandWrittenForest(~0, 9))).Should().Throw<InvalidDataException>().WithMessage("*row 9*");
    }
}
