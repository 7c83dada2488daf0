using System.Buffers.Binary;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Persistence;
using FluentAssertions;

namespace DeepRetrieval.Tests.Indexes;

public class HnswIndexTests
{
    private const int D = 32;

    // One shared 5,000 × 32 clustered set per metric: building is the slow part, so tests that only read share it.
    private static readonly float[] Data = TestData.Clustered(5000, D, 50, 11);
    private static readonly float[] Queries = TestData.Clustered(200, D, 50, 11).Select((v, i) => v + 0.1f * ((i * 7919) % 13 - 6) / 6f).ToArray();
    private static readonly Lazy<HnswIndex> L2Index = new(() => Build(Metric.L2));
    private static readonly Dictionary<Metric, long[]> Truth = [];

    // Built on one thread so every run sees the same graph: a parallel build's graph depends on thread timing,
    // and a test such as the two-id filter must not pass or fail with it. Parallel builds have their own tests.
    private static HnswIndex Build(Metric metric)
    {
        var index = new HnswIndex(D, metric) { BuildThreads = 1 };
        index.Add(Data);
        return index;
    }

    private static long[] Exact(Metric metric, int k, float[]? data = null, float[]? queries = null, long[]? ids = null)
    {
        data ??= Data;
        queries ??= Queries;
        var flat = new FlatIndex(D, metric);
        if (ids is null) flat.Add(data);
        else flat.Add(data, ids);
        return flat.Search(queries, k).Ids;
    }

    private static long[] TruthOf(Metric metric)
    {
        lock (Truth)
        {
            if (!Truth.TryGetValue(metric, out long[]? ids)) Truth[metric] = ids = Exact(metric, 10);
            return ids;
        }
    }

    private static double Recall(long[] found, long[] truth, int k)
    {
        int queries = truth.Length / k, hits = 0;
        for (int q = 0; q < queries; q++)
        {
            var expected = new HashSet<long>(truth.AsSpan(q * k, k).ToArray());
            for (int j = 0; j < k; j++) if (expected.Contains(found[q * k + j])) hits++;
        }
        return (double)hits / truth.Length;
    }

    [Fact]
    public void Search_RecallGrowsWithEf()
    {
        HnswIndex index = L2Index.Value;
        double previous = 0;
        foreach (int ef in new[] { 10, 20, 40, 80, 160 })
        {
            double recall = Recall(index.Search(Queries, 10, new HnswSearchOptions { Ef = ef }).Ids, TruthOf(Metric.L2), 10);
            recall.Should().BeGreaterThanOrEqualTo(previous - 0.01, $"ef {ef} should not lose recall");
            previous = recall;
        }
        previous.Should().BeGreaterThanOrEqualTo(0.99);
    }

    [Fact]
    public void SetSearchParameter_ChangesDefaultEf()
    {
        var index = new HnswIndex(D);
        index.Add(Data.AsSpan(0, 500 * D));
        index.SetSearchParameter("ef", 40);
        index.EfSearch.Should().Be(40);
        ((Action)(() => index.SetSearchParameter("ef", 0))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => index.SetSearchParameter("ef", 2.5))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => index.SetSearchParameter("nprobe", 4))).Should().Throw<ArgumentException>().WithMessage("*nprobe*");
        ((Action)(() => index.Search(Queries, 10, new HnswSearchOptions { Ef = 0 }))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Search_Duplicates_ComeBackInIdOrderWithZeroDistance()
    {
        float[] data = TestData.Gaussian(300, D, 5);
        var vectors = new List<float>(data);
        for (int i = 0; i < 5; i++) vectors.AddRange(data.AsSpan(17 * D, D).ToArray());
        var index = new HnswIndex(D);
        index.Add(vectors.ToArray());

        SearchResult result = index.Search(data.AsSpan(17 * D, D), 6, new HnswSearchOptions { Ef = 50 });

        result.Ids.Should().Equal(17, 300, 301, 302, 303, 304);
        result.Distances.Should().OnlyContain(v => v == 0f);
    }

    [Fact]
    public void Add_Incrementally_KeepsRecall()
    {
        var index = new HnswIndex(D);
        index.Add(Data.AsSpan(0, 2000 * D));
        index.Add(Data.AsSpan(2000 * D, 1000 * D));
        for (int r = 3000; r < 3100; r++) index.Add(Data.AsSpan(r * D, D)); // one at a time
        index.Add(Data.AsSpan(3100 * D));

        index.Count.Should().Be(5000);
        index.NextId.Should().Be(5000);
        Recall(index.Search(Queries, 10, new HnswSearchOptions { Ef = 64 }).Ids, TruthOf(Metric.L2), 10).Should().BeGreaterThanOrEqualTo(0.95);
    }

    [Fact]
    public void Remove_NeverReturnsRemovedIdsAndKeepsRecall()
    {
        var index = new HnswIndex(D);
        index.Add(Data);
        long[] removed = Enumerable.Range(0, 5000).Where(i => i % 3 == 0).Select(i => (long)i).ToArray();

        index.Remove(removed).Should().Be(removed.Length);

        index.Count.Should().Be(5000 - removed.Length);
        index.Contains(3).Should().BeFalse();
        long[] keptIds = Enumerable.Range(0, 5000).Where(i => i % 3 != 0).Select(i => (long)i).ToArray();
        float[] keptData = keptIds.SelectMany(i => Data.AsSpan((int)i * D, D).ToArray()).ToArray();
        SearchResult result = index.Search(Queries, 10, new HnswSearchOptions { Ef = 64 });
        result.Ids.Should().NotContain(removed);
        Recall(result.Ids, Exact(Metric.L2, 10, keptData, ids: keptIds), 10).Should().BeGreaterThanOrEqualTo(0.95);

        // Re-adding a removed id is allowed and returns the new vector.
        index.Add(Queries.AsSpan(0, D), [0L]);
        index.Search(Queries.AsSpan(0, D), 1).Ids.Should().Equal(0);

        // Nodes inserted among tombstones are still linked and found.
        float[] more = TestData.Clustered(300, D, 50, 77);
        long first = index.Add(more);
        SearchResult own = index.Search(more, 1, new HnswSearchOptions { Ef = 32 });
        own.Ids.Select((id, q) => id == first + q).Count(hit => hit).Should().BeGreaterThanOrEqualTo(295);
    }

    [Fact]
    public void Remove_Everything_LeavesAnEmptyIndex()
    {
        var index = new HnswIndex(D);
        index.Add(Data.AsSpan(0, 50 * D));
        index.Remove(Enumerable.Range(0, 50).Select(i => (long)i).ToArray());

        index.Count.Should().Be(0);
        index.Search(Queries.AsSpan(0, D), 2).Ids.Should().Equal(-1, -1);
    }

    [Fact]
    public void Search_WithVerySelectiveFilter_StillFindsTheAllowedIds()
    {
        HnswIndex index = L2Index.Value;
        var options = new SearchOptions { Filter = id => id is 42 or 4242 };

        SearchResult result = index.Search(Queries.AsSpan(0, D), 3, options);

        result.IdsOf(0)[..2].ToArray().Should().BeEquivalentTo(new long[] { 42, 4242 });
        result.IdsOf(0)[2].Should().Be(SearchResult.MissingId);
    }

    [Fact]
    public void ConcurrentSearches_MatchSequentialResults()
    {
        HnswIndex index = L2Index.Value;
        var options = new HnswSearchOptions { Ef = 32, MaxDegreeOfParallelism = 1 };
        long[] sequential = index.Search(Queries, 10, options).Ids;

        var results = new long[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var ids = new long[Queries.Length / D * 10];
            for (int q = 0; q < Queries.Length / D; q++)
                index.Search(Queries.AsSpan(q * D, D), 10, options).Ids.CopyTo(ids, q * 10);
            results[t] = ids;
        });
        foreach (long[] ids in results) ids.Should().Equal(sequential);
        index.Search(Queries, 10, new HnswSearchOptions { Ef = 32, MaxDegreeOfParallelism = 4 }).Ids.Should().Equal(sequential);
    }

    [Fact]
    public async Task ConcurrentAddAndSearch_NeverReturnsUnknownIdsAndEndsWithHighRecall()
    {
        var index = new HnswIndex(D) { BuildThreads = 2 };
        index.Add(Data.AsSpan(0, 500 * D));
        using var done = new CancellationTokenSource();
        var failures = new List<string>();
        int searches = 0;
        // Dedicated threads: the adds' Parallel.For would otherwise hold the pool until they finish.
        var readers = Enumerable.Range(0, 2).Select(t => Task.Factory.StartNew(() =>
        {
            int q = t;
            while (!done.IsCancellationRequested)
            {
                SearchResult result = index.Search(Queries.AsSpan(q % 200 * D, D), 10);
                foreach (long id in result.Ids)
                    if (id < -1 || id >= 5000) lock (failures) failures.Add($"id {id}");
                long[] found = result.Ids.Where(id => id >= 0).ToArray();
                if (found.Distinct().Count() != found.Length) lock (failures) failures.Add("a repeated id");
                if (!result.Distances.Where(v => !float.IsNaN(v)).SequenceEqual(result.Distances.Where(v => !float.IsNaN(v)).Order()))
                    lock (failures) failures.Add("distances out of order");
                Interlocked.Increment(ref searches);
                q += 2;
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        SpinWait.SpinUntil(() => Volatile.Read(ref searches) >= 2, TimeSpan.FromSeconds(10));
        int before = Volatile.Read(ref searches);
        for (int start = 500; start < 5000; start += 250) index.Add(Data.AsSpan(start * D, 250 * D));
        int during = Volatile.Read(ref searches) - before;
        done.Cancel();
        await Task.WhenAll(readers);

        failures.Should().BeEmpty();
        during.Should().BeGreaterThan(10, "the readers must have overlapped the adds");
        Recall(index.Search(Queries, 10, new HnswSearchOptions { Ef = 64 }).Ids, TruthOf(Metric.L2), 10).Should().BeGreaterThanOrEqualTo(0.95);
    }

    [Fact]
    public void SingleThreadBuild_IsDeterministic()
    {
        var a = new HnswIndex(D, seed: 3) { BuildThreads = 1 };
        var b = new HnswIndex(D, seed: 3) { BuildThreads = 1 };
        a.Add(Data.AsSpan(0, 1500 * D));
        b.Add(Data.AsSpan(0, 1500 * D));
        a.Search(Queries, 10).Ids.Should().Equal(b.Search(Queries, 10).Ids);
    }

    [Fact]
    public void RangeSearch_ReturnsOnlyNeighboursInsideTheRadiusAndMostOfThem()
    {
        HnswIndex index = L2Index.Value;
        var flat = new FlatIndex(D);
        flat.Add(Data);
        float radius = flat.Search(Queries.AsSpan(0, 20 * D), 50).Distances.Where((_, i) => i % 50 == 49).Average();

        RangeSearchResult approximate = index.RangeSearch(Queries.AsSpan(0, 20 * D), radius);
        RangeSearchResult exact = flat.RangeSearch(Queries.AsSpan(0, 20 * D), radius);

        approximate.Distances.Should().OnlyContain(v => v < radius);
        approximate.Ids.Should().OnlyContain(id => exact.Ids.Contains(id));
        ((double)approximate.Ids.Length / exact.Ids.Length).Should().BeGreaterThanOrEqualTo(0.9);
        approximate.DistancesOf(0).ToArray().Should().BeInAscendingOrder();
    }

    [Fact]
    public void SaveAndReadPayload_RoundTripGivesIdenticalResults()
    {
        var index = new HnswIndex(D, Metric.Cosine, m: 8, efConstruction: 64, seed: 9);
        index.Add(Data.AsSpan(0, 2000 * D));
        index.Remove([1, 2, 3]);
        index.SetSearchParameter("ef", 24);

        HnswIndex loaded = ReadBack(Payload(index));

        loaded.Count.Should().Be(index.Count);
        loaded.M.Should().Be(8);
        loaded.EfConstruction.Should().Be(64);
        loaded.EfSearch.Should().Be(24);
        loaded.NextId.Should().Be(index.NextId);
        loaded.Metric.Should().Be(Metric.Cosine);
        SearchResult expected = index.Search(Queries, 10);
        SearchResult actual = loaded.Search(Queries, 10);
        actual.Ids.Should().Equal(expected.Ids);
        actual.Distances.Should().Equal(expected.Distances);
        // The loaded index keeps growing like the original.
        loaded.Add(Data.AsSpan(2000 * D, 100 * D)).Should().Be(2000);
    }

    [Theory]
    [InlineData("link")]
    [InlineData("count")]
    [InlineData("level")]
    [InlineData("entry")]
    [InlineData("truncated")]
    public void ReadPayload_CorruptData_ThrowsInvalidData(string damage)
    {
        var index = new HnswIndex(4, m: 4, efConstruction: 20);
        index.Add(TestData.Gaussian(60, 4, 1));
        byte[] payload = Payload(index);
        int n = 60, m0 = 8;
        int header = 6 * 4 + 8 + 4 + 8;
        // Rows and links are aligned arrays: a padding-length byte, then zeros up to a 64-byte offset in the file, whose
        // header ("DRIX", version, kind length, "HNSW") precedes the payload.
        const int fileHeader = 4 + 4 + 1 + 4;
        static int Aligned(int payloadOffset) => (payloadOffset + fileHeader + 1 + 63) / 64 * 64 - fileHeader;
        int links = Aligned(Aligned(header + 8 * n + n + n) + 4 * n * 4);
        switch (damage)
        {
            case "link": BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(links + 4), n + 5); break;
            case "count": BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(links + (m0 + 1) * 4 * 7), m0 + 1); break;
            case "level": payload[header + 8 * n + 3] = 200; break;
            case "entry": BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(6 * 4 + 8 + 4), 1000); break;
            case "truncated": payload = payload[..(payload.Length - 3)]; break;
        }

        ((Action)(() => ReadBack(payload))).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void Constructor_AndBuildThreads_RejectBadParameters()
    {
        var index = new HnswIndex(D);
        ((Action)(() => new HnswIndex(D, m: 1))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => new HnswIndex(D, efConstruction: 0))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => index.BuildThreads = -1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void MemoryUsage_CountsVectorsLinksAndIds()
    {
        HnswIndex index = L2Index.Value;
        long perNodeFloor = 4L * D + 4L * (2 * 16 + 1) + 8;
        index.MemoryUsageBytes.Should().BeGreaterThanOrEqualTo(5000 * perNodeFloor);
        index.MemoryUsageBytes.Should().BeLessThan(3 * 5000 * (perNodeFloor + 24));
    }

    private static byte[] Payload(HnswIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        byte[] file = stream.ToArray();
        int header = 4 + 4 + 1 + file[8];
        return file[header..^16];
    }

    // Reads a payload directly, bypassing the container's checksum so damaged payloads reach the validation.
    private static HnswIndex ReadBack(byte[] payload)
    {
        using var stream = new MemoryStream(payload);
        var reader = new IndexPayloadReader(stream, payload.Length, "HNSW");
        HnswIndex index = HnswIndex.ReadPayload(reader);
        reader.Remaining.Should().Be(0);
        return index;
    }
}
