using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Trees;
using DeepRetrieval.Persistence;

namespace DeepRetrieval.Tests.Indexes;

public class KdTreeIndexTests
{
    // Small integer coordinates make every squared distance exact in float, whichever way it is computed, so
    // the tree and FlatIndex (which expands ‖q‖² − 2q·x + ‖x‖²) must agree bit for bit, ties and duplicates included.
    private static float[] IntegerGrid(int rows, int dimension, int seed)
    {
        var random = new Random(seed);
        var data = new float[rows * dimension];
        for (int i = 0; i < data.Length; i++) data[i] = random.Next(4);
        return data;
    }

    private static double Recall(SearchResult found, SearchResult truth)
    {
        int hits = 0;
        for (int q = 0; q < truth.QueryCount; q++)
            hits += found.IdsOf(q).ToArray().Intersect(truth.IdsOf(q).ToArray()).Count();
        return hits / (double)truth.Ids.Length;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(16)]
    public void ExactSearch_EqualsFlatIndex_WithTiesAndDuplicates(int d)
    {
        float[] data = IntegerGrid(1500, d, d);
        float[] queries = IntegerGrid(60, d, d + 100);
        var tree = new KdTreeIndex(d, leafSize: 8);
        var flat = new FlatIndex(d);
        tree.Add(data);
        flat.Add(data);
        tree.IndexedCount.Should().Be(1500);
        // A few more vectors stay in the unindexed tail, which must be searched too.
        float[] extra = IntegerGrid(10, d, d + 200);
        tree.Add(extra);
        flat.Add(extra);
        tree.IndexedCount.Should().Be(1500);

        foreach (int k in new[] { 1, 10, 50 })
        {
            SearchResult expected = flat.Search(queries, k, new SearchOptions { MaxDegreeOfParallelism = 1 });
            SearchResult actual = tree.Search(queries, k, new SearchOptions { MaxDegreeOfParallelism = 2 });
            actual.Ids.Should().Equal(expected.Ids);
            actual.Distances.Should().Equal(expected.Distances);
        }
    }

    [Fact]
    public void ExactSearch_FindsFlatIndexNeighbours_OnGaussianData()
    {
        const int d = 6;
        float[] data = TestData.Gaussian(4000, d, 3);
        float[] queries = TestData.Gaussian(100, d, 4);
        var tree = new KdTreeIndex(d);
        tree.Add(data);
        var flat = new FlatIndex(d);
        flat.Add(data);
        SearchResult expected = flat.Search(queries, 10);
        SearchResult actual = tree.Search(queries, 10);
        actual.Ids.Should().Equal(expected.Ids);
        for (int i = 0; i < actual.Distances.Length; i++)
            actual.Distances[i].Should().BeApproximately(expected.Distances[i], 1e-4f * Math.Max(1f, expected.Distances[i]));
    }

    [Fact]
    public void LeafBudget_RecallRisesWithTheBudget_AndZeroIsExact()
    {
        const int d = 8;
        float[] all = TestData.Clustered(8200, d, 30, 5);
        float[] data = all[..(8000 * d)];
        float[] queries = all[(8000 * d)..];
        var tree = new KdTreeIndex(d);
        tree.Add(data);
        var flat = new FlatIndex(d);
        flat.Add(data);
        SearchResult truth = flat.Search(queries, 10);

        var recalls = new List<double>();
        foreach (int budget in new[] { 1, 4, 16, 64 })
        {
            tree.SetSearchParameter("max_leaves", budget);
            recalls.Add(Recall(tree.Search(queries, 10), truth));
        }
        recalls.Should().BeInAscendingOrder();
        recalls[0].Should().BeLessThan(0.8);
        recalls[^1].Should().BeGreaterThan(recalls[0] + 0.2);
        // Per-call options override the index default.
        Recall(tree.Search(queries, 10, new KdTreeSearchOptions { MaxLeaves = 0 }), truth).Should().Be(1.0);
        tree.SetSearchParameter("max_leaves", 0);
        Recall(tree.Search(queries, 10), truth).Should().Be(1.0);
    }

    [Fact]
    public void Filter_ExcludesIds_InExactAndBudgetedSearch()
    {
        const int d = 3;
        float[] data = IntegerGrid(500, d, 9);
        var tree = new KdTreeIndex(d, leafSize: 4);
        tree.Add(data);
        var flat = new FlatIndex(d);
        flat.Add(data);
        var options = new KdTreeSearchOptions { Filter = id => id % 3 == 0 };
        SearchResult expected = flat.Search(data[..(5 * d)], 7, options);
        tree.Search(data[..(5 * d)], 7, options).Ids.Should().Equal(expected.Ids);
        tree.Search(data[..(5 * d)], 7, new KdTreeSearchOptions { Filter = id => id % 3 == 0, MaxLeaves = 3 })
            .Ids.Where(id => id >= 0).Should().OnlyContain(id => id % 3 == 0);
    }

    [Fact]
    public void Remove_RebuildsTheTree_AndSearchStaysExact()
    {
        const int d = 4;
        float[] data = IntegerGrid(800, d, 11);
        var tree = new KdTreeIndex(d, leafSize: 8);
        tree.Add(data);
        var flat = new FlatIndex(d);
        flat.Add(data);
        long[] gone = Enumerable.Range(0, 200).Select(i => (long)(i * 4)).ToArray();
        tree.Remove(gone).Should().Be(200);
        flat.Remove(gone);
        tree.Count.Should().Be(600);
        tree.IndexedCount.Should().Be(600);
        tree.Contains(0).Should().BeFalse();
        float[] queries = IntegerGrid(30, d, 12);
        tree.Search(queries, 10).Ids.Should().Equal(flat.Search(queries, 10).Ids);
        FluentActions.Invoking(() => tree.Remove([1, 4])).Should().Throw<KeyNotFoundException>().WithMessage("*4*");
        tree.Count.Should().Be(600);
    }

    [Fact]
    public void SaveAndLoad_GiveIdenticalResults_IncludingBudgetedSearchAndTail()
    {
        const int d = 5;
        float[] data = TestData.Clustered(3000, d, 10, 15);
        float[] queries = TestData.Clustered(50, d, 10, 16);
        var tree = new KdTreeIndex(d, leafSize: 16) { MaxLeaves = 3 };
        tree.Add(data);
        tree.Add(TestData.Gaussian(20, d, 17)); // stays in the tail
        var stream = new MemoryStream();
        tree.Save(stream);
        stream.Position = 0;
        var loaded = (KdTreeIndex)IndexFile.Load(stream);
        loaded.Count.Should().Be(3020);
        loaded.IndexedCount.Should().Be(tree.IndexedCount);
        loaded.MaxLeaves.Should().Be(3);
        loaded.NextId.Should().Be(3020);
        SearchResult before = tree.Search(queries, 10);
        SearchResult after = loaded.Search(queries, 10);
        after.Ids.Should().Equal(before.Ids);
        after.Distances.Should().Equal(before.Distances);
        loaded.Add(new float[d]).Should().Be(3020);
    }

    [Fact]
    public void BadArguments_AreRejectedWithClearMessages()
    {
        FluentActions.Invoking(() => new KdTreeIndex(4, Metric.InnerProduct)).Should().Throw<ArgumentException>().WithMessage("*L2*");
        FluentActions.Invoking(() => new KdTreeIndex(4, leafSize: 0)).Should().Throw<ArgumentOutOfRangeException>();
        var tree = new KdTreeIndex(2);
        FluentActions.Invoking(() => tree.SetSearchParameter("nprobe", 3)).Should().Throw<ArgumentException>().WithMessage("*max_leaves*");
        FluentActions.Invoking(() => tree.SetSearchParameter("max_leaves", -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => tree.SetSearchParameter("max_leaves", 1.5)).Should().Throw<ArgumentOutOfRangeException>();
        tree.Add([1f, 2f]);
        FluentActions.Invoking(() => tree.Search([1f, 2f, 3f], 1)).Should().Throw<ArgumentException>().WithMessage("*dimension*");
        FluentActions.Invoking(() => tree.Search([1f, 2f], 1, new KdTreeSearchOptions { MaxLeaves = -2 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => tree.Add([1f, 2f], [0])).Should().Throw<ArgumentException>().WithMessage("*already*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void SingleQuerySearch_AllocatesNothing_OnceWarm(int maxLeaves)
    {
        const int d = 4;
        var tree = new KdTreeIndex(d) { MaxLeaves = maxLeaves };
        tree.Add(TestData.Gaussian(2000, d, 19));
        float[] queries = TestData.Gaussian(50, d, 20);
        var ids = new long[10];
        var distances = new float[10];
        var options = new SearchOptions { MaxDegreeOfParallelism = 1 };
        for (int q = 0; q < 50; q++) tree.Search(queries.AsSpan(q * d, d), 10, ids, distances, options);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int q = 0; q < 50; q++) tree.Search(queries.AsSpan(q * d, d), 10, ids, distances, options);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    // A two-point tree written by hand: root split at 0.5, leaves {row 0} and {row 1}.
    private static MemoryStream HandWrittenTree(int rootFirstChild, int secondLeafEnd)
    {
        var stream = new MemoryStream();
        IndexFileFormat.Write(stream, KdTreeIndex.KindName, w =>
        {
            w.WriteInt32(1);
            w.WriteInt32((int)Metric.L2);
            w.WriteInt32(1);
            w.WriteInt32(0);
            w.WriteInt64(2);
            w.WriteInt64(2);
            w.WriteInt64(2);
            w.WriteSpan<long>([0, 1]);
            w.WriteSpan<float>([0f, 1f]);
            w.WriteInt64(3);
            w.WriteSpan<int>([0, -1, -1]);
            w.WriteSpan<float>([0.5f, 0f, 0f]);
            w.WriteSpan<int>([rootFirstChild, 0, 1]);
            w.WriteSpan<int>([2, 1, secondLeafEnd]);
        });
        stream.Position = 0;
        return stream;
    }

    [Fact]
    public void Load_RejectsATreeThatCouldLoopOrReadOutOfRange()
    {
        var valid = (KdTreeIndex)IndexFile.Load(HandWrittenTree(1, 2));
        valid.Search([0.9f], 2).Ids.Should().Equal(1L, 0L);
        FluentActions.Invoking(() => IndexFile.Load(HandWrittenTree(0, 2))).Should().Throw<InvalidDataException>().WithMessage("*child*");
        FluentActions.Invoking(() => IndexFile.Load(HandWrittenTree(1, 7))).Should().Throw<InvalidDataException>().WithMessage("*leaf*");
    }
}
