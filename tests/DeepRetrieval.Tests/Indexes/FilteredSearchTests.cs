using DeepRetrieval.Distances;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;
using FluentAssertions;

namespace DeepRetrieval.Tests.Indexes;

public class FilteredSearchTests
{
    private const int D = 32;
    private const int N = 5000;
    private const int K = 10;

    private static readonly float[] Data = TestData.Clustered(N, D, 50, 71);
    // Base rows moved a little: queries from the data's distribution, none of them a stored vector.
    private static readonly float[] Queries = Data.AsSpan(0, 100 * D).ToArray().Select((v, i) => v + 0.1f * ((i * 7919) % 13 - 6) / 6f).ToArray();
    private static readonly Lazy<HnswIndex> Hnsw = new(() =>
    {
        var index = new HnswIndex(D) { BuildThreads = 1 };
        index.Add(Data);
        return index;
    });

    // random: ⌈s·N⌉ ids drawn uniformly; centroid: the ⌈s·N⌉ ids nearest a random base vector, a region most
    // queries lie outside of (the case that makes a graph search wade through filtered-out nodes).
    private static long[] AllowedIds(string kind, double selectivity)
    {
        int count = (int)Math.Ceiling(selectivity * N);
        var random = new Random(5);
        if (kind == "random")
            return [.. Enumerable.Range(0, N).OrderBy(_ => random.Next()).Take(count).Select(i => (long)i).Order()];
        var flat = new FlatIndex(D);
        flat.Add(Data);
        return [.. flat.Search(Data.AsSpan(random.Next(N) * D, D), count).Ids.Order()];
    }

    // The exact k nearest within the allowed rows by Distance.SquaredL2, ordered by (distance, id) as TopKHeap orders.
    private static (long[] Ids, float[] Distances) BruteForce(long[] allowed, int queries)
    {
        var ids = new long[queries * K];
        var distances = new float[queries * K];
        for (int q = 0; q < queries; q++)
        {
            var ranked = allowed
                .Select(id => (Distance: Distance.SquaredL2(Queries.AsSpan(q * D, D), Data.AsSpan((int)id * D, D)), Id: id))
                .OrderBy(p => p.Distance).ThenBy(p => p.Id).Take(K).ToArray();
            for (int j = 0; j < K; j++)
            {
                ids[q * K + j] = j < ranked.Length ? ranked[j].Id : SearchResult.MissingId;
                distances[q * K + j] = j < ranked.Length ? ranked[j].Distance : float.NaN;
            }
        }
        return (ids, distances);
    }

    private static double Recall(long[] found, long[] truth)
    {
        int hits = 0;
        for (int q = 0; q < truth.Length / K; q++)
        {
            var expected = new HashSet<long>(truth.AsSpan(q * K, K).ToArray());
            for (int j = 0; j < K; j++) if (expected.Contains(found[q * K + j])) hits++;
        }
        return (double)hits / truth.Length;
    }

    private static void OnlyAllowed(long[] found, long[] allowed) =>
        found.Where(id => id != SearchResult.MissingId).Should().OnlyContain(id => Array.BinarySearch(allowed, id) >= 0);

    [Theory]
    [InlineData("random", 0.01)]
    [InlineData("random", 0.1)]
    [InlineData("random", 0.5)]
    [InlineData("centroid", 0.01)]
    [InlineData("centroid", 0.1)]
    [InlineData("centroid", 0.5)]
    public void Hnsw_KeepsRecall_AtEverySelectivity_WithSelectorAndPredicate(string kind, double selectivity)
    {
        long[] allowed = AllowedIds(kind, selectivity);
        long[] truth = BruteForce(allowed, Queries.Length / D).Ids;
        var set = new HashSet<long>(allowed);
        SearchOptions[] filters =
        [
            new() { Selector = new IdSelectorBitmap(allowed) },
            new() { Selector = new IdSelectorBatch(allowed) },
            new() { Filter = set.Contains },
            new HnswSearchOptions { Selector = new IdSelectorBitmap(allowed), ExactScanThreshold = 0 }, // the beam alone
        ];
        foreach (SearchOptions options in filters)
        {
            long[] found = Hnsw.Value.Search(Queries, K, options).Ids;
            OnlyAllowed(found, allowed);
            Recall(found, truth).Should().BeGreaterThanOrEqualTo(0.95, $"{kind} {selectivity:P0} with {options.Selector?.GetType().Name ?? "a predicate"}");
        }
    }

    [Fact]
    public void Hnsw_ExactScan_EqualsBruteForceOverTheAllowedIds()
    {
        long[] allowed = AllowedIds("random", 0.1);
        (long[] ids, float[] distances) = BruteForce(allowed, Queries.Length / D);
        foreach (IdSelector selector in new IdSelector[] { new IdSelectorBitmap(allowed), new IdSelectorBatch(allowed) })
        {
            SearchResult result = Hnsw.Value.Search(Queries, K, new HnswSearchOptions { Selector = selector, ExactScanThreshold = int.MaxValue });
            result.Ids.Should().Equal(ids);
            result.Distances.Should().Equal(distances);
        }
        var set = new HashSet<long>(allowed);
        SearchResult predicate = Hnsw.Value.Search(Queries, K, new HnswSearchOptions { Filter = set.Contains, ExactScanThreshold = int.MaxValue, MaxDegreeOfParallelism = 2 });
        predicate.Ids.Should().Equal(ids);
        predicate.Distances.Should().Equal(distances);
    }

    [Fact]
    public void Hnsw_ExactScan_SkipsRemovedIdsAndIdsNotInTheIndex()
    {
        var index = new HnswIndex(D) { BuildThreads = 1 };
        index.Add(Data.AsSpan(0, 1000 * D));
        index.Remove([3, 5]);
        long[] allowed = [3, 5, 7, 11, 13, 999, 5000, 123456];
        SearchResult result = index.Search(Queries.AsSpan(0, D), K, new HnswSearchOptions { Selector = new IdSelectorBatch(allowed), ExactScanThreshold = int.MaxValue });
        result.Ids.Take(4).Should().BeEquivalentTo(new long[] { 7, 11, 13, 999 });
        result.Ids.Skip(4).Should().OnlyContain(id => id == SearchResult.MissingId);
    }

    public static TheoryData<string> IndexKinds() => ["Flat", "HNSW16", "IVF16,Flat", "IVF16,SQ8"];

    [Theory]
    [MemberData(nameof(IndexKinds))]
    public void FilterThatPassesNothing_ReturnsPaddedResults(string description)
    {
        IVectorIndex index = IndexFactory.Create(D, description);
        index.Train(Data);
        index.Add(Data);
        var options = new SearchOptions[] { new() { Selector = new IdSelectorBatch([]) }, new() { Filter = _ => false }, new() { Selector = new IdSelectorBitmap([N + 5]) } };
        foreach (SearchOptions filter in options)
        {
            SearchResult result = index.Search(Queries, K, filter);
            result.Ids.Should().OnlyContain(id => id == SearchResult.MissingId);
            result.Distances.Should().OnlyContain(d => float.IsNaN(d));
        }
    }

    [Fact]
    public void Flat_Filtered_EqualsFlatOverTheAllowedRows()
    {
        long[] allowed = AllowedIds("random", 0.01);
        var full = new FlatIndex(D);
        full.Add(Data);
        var subset = new FlatIndex(D);
        subset.Add(allowed.SelectMany(id => Data.AsSpan((int)id * D, D).ToArray()).ToArray(), allowed);
        SearchResult expected = subset.Search(Queries.AsSpan(0, D), K);
        SearchResult found = full.Search(Queries.AsSpan(0, D), K, new SearchOptions { Selector = new IdSelectorBitmap(allowed) });
        found.Ids.Should().Equal(expected.Ids);
        found.Distances.Should().Equal(expected.Distances);
    }

    [Theory]
    [InlineData("IVF16,Flat", 0.05)]
    [InlineData("IVF16,Flat", 0.8)]
    [InlineData("IVF16,SQ8", 0.05)]
    [InlineData("IVF16,PQ8", 0.05)]
    public void Ivf_Filtered_EqualsTheUnfilteredKeysOfTheAllowedRows(string description, double selectivity)
    {
        // Probing every list makes the filtered search the exact search of the allowed rows by the lists' own keys,
        // whether it gathers the allowed rows first (a selective filter) or scores the whole list.
        var index = (IvfIndex)IndexFactory.Create(D, description);
        index.Train(Data);
        index.Add(Data);
        long[] allowed = AllowedIds("random", selectivity);
        var all = new IvfSearchOptions { Nprobe = 16 };
        SearchResult unfiltered = index.Search(Queries, N, all);
        SearchResult filtered = index.Search(Queries, K, new IvfSearchOptions { Nprobe = 16, Selector = new IdSelectorBitmap(allowed) });
        for (int q = 0; q < Queries.Length / D; q++)
        {
            var expected = Enumerable.Range(q * N, N).Where(i => Array.BinarySearch(allowed, unfiltered.Ids[i]) >= 0).Take(K).ToArray();
            filtered.Ids.AsSpan(q * K, K).ToArray().Should().Equal(expected.Select(i => unfiltered.Ids[i]));
            filtered.Distances.AsSpan(q * K, K).ToArray().Should().Equal(expected.Select(i => unfiltered.Distances[i]));
        }
    }

    [Fact]
    public void Hnsw_RejectsANegativeExactScanThreshold()
    {
        Action search = () => Hnsw.Value.Search(Queries.AsSpan(0, D), K, new HnswSearchOptions { Filter = _ => true, ExactScanThreshold = -1 });
        search.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Options_RejectFilterAndSelectorTogether()
    {
        Action both = () => _ = new SearchOptions { Filter = _ => true, Selector = new IdSelectorBatch([1]) };
        both.Should().Throw<ArgumentException>();
        Action reversed = () => _ = new SearchOptions { Selector = new IdSelectorBatch([1]), Filter = _ => true };
        reversed.Should().Throw<ArgumentException>();
        new SearchOptions { Selector = new IdSelectorBatch([1]) }.Predicate!(1).Should().BeTrue();
    }

    [Fact]
    public void Selectors_CountAndContain()
    {
        var batch = new IdSelectorBatch([9, 3, 3, -4]);
        batch.Count.Should().Be(3);
        batch.Ids.ToArray().Should().Equal(-4, 3, 9);
        batch.Contains(-4).Should().BeTrue();
        batch.Contains(4).Should().BeFalse();

        var bitmap = new IdSelectorBitmap([0, 64, 65, 65]);
        bitmap.Count.Should().Be(3);
        bitmap.Length.Should().Be(66);
        bitmap.Contains(64).Should().BeTrue();
        bitmap.Contains(1).Should().BeFalse();
        bitmap.Contains(-1).Should().BeFalse();
        bitmap.Contains(1000).Should().BeFalse();
        new IdSelectorBitmap([true, false, true]).Count.Should().Be(2);
        Action negative = () => _ = new IdSelectorBitmap([1, -2]);
        negative.Should().Throw<ArgumentException>();
    }
}
