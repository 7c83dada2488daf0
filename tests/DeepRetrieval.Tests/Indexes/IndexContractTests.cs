using System.Collections.Concurrent;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using static DeepRetrieval.Tests.Indexes.IndexContract;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// The <see cref="IVectorIndex"/> contract, checked the same way for every factory string the library supports and every
/// metric each accepts: train, add, search, range search, remove, contains, ids, reconstruct, save and load (synchronous
/// and asynchronous), and bad input. Exact kinds must return what a brute-force scan in double precision returns; the
/// others must reach a recall floor and report distances that agree with their own reconstructions.
/// </summary>
/// <remarks>
/// The data are integers (clustered Gaussian points scaled and rounded), so squared distances and inner products are exact
/// in float however they are summed: an exact index must then match the reference id for id, ties (by ascending id)
/// included. Index-specific behaviour (graph repair, list balance, tree budgets, …) stays in each index's own tests.
/// </remarks>
internal static class IndexContract
{
    internal const int D = 32, N = 2000, Q = 40, K = 10;

    // How a case's results are judged: against a brute-force scan in the index's own metric (exactly, or to a recall
    // floor), or, for the hashing kinds, to a recall floor against the float metric they approximate.
    internal enum Reference { Same, Cosine, L2, SignHamming }

    internal sealed record Case(string Description, Metric Metric, bool Exact, double Floor, Reference Reference = Reference.Same, bool ReportsStoredDistances = true);

    private static readonly Case[] Cases =
    [
        new("Flat", Metric.L2, true, 1),
        new("Flat", Metric.InnerProduct, true, 1),
        new("Flat", Metric.Cosine, true, 1),
        new("HNSW16", Metric.L2, false, 0.95),
        new("HNSW16", Metric.InnerProduct, false, 0.9),
        new("HNSW16", Metric.Cosine, false, 0.95),
        new("HNSW16,Flat", Metric.L2, false, 0.95),
        new("HNSW16,SQ8", Metric.L2, false, 0.9),
        new("HNSW16,SQ8", Metric.Cosine, false, 0.9),
        new("HNSW16,SQ4", Metric.L2, false, 0.6),
        new("HNSW16,SQfp16", Metric.L2, false, 0.95),
        new("HNSW16,PQ8", Metric.L2, false, 0.5),
        new("HNSW16,PQ8", Metric.InnerProduct, false, 0.4),
        new("HNSW16,PQ16x4", Metric.Cosine, false, 0.25),
        new("SQ8", Metric.L2, false, 0.9),
        new("SQ8", Metric.InnerProduct, false, 0.9),
        new("SQ8", Metric.Cosine, false, 0.9),
        new("SQ4", Metric.L2, false, 0.6),
        new("SQfp16", Metric.L2, false, 0.99),
        new("SQfp16", Metric.Cosine, false, 0.99),
        new("PQ8", Metric.L2, false, 0.5),
        new("PQ8", Metric.InnerProduct, false, 0.4),
        new("PQ8x4", Metric.L2, false, 0.25),
        new("PQ16x4", Metric.Cosine, false, 0.25),
        new("IVF16,Flat", Metric.L2, false, 0.9),
        new("IVF16,Flat", Metric.InnerProduct, false, 0.8),
        new("IVF16,Flat", Metric.Cosine, false, 0.9),
        new("IVF16,SQ8", Metric.L2, false, 0.85),
        new("IVF16,SQ4", Metric.L2, false, 0.6),
        new("IVF16,SQfp16", Metric.Cosine, false, 0.9),
        new("IVF16,PQ8", Metric.L2, false, 0.5),
        new("IVF16,PQ8", Metric.InnerProduct, false, 0.4),
        new("IVF16,PQ8x4", Metric.L2, false, 0.3),
        new("IVF16_HNSW8,Flat", Metric.L2, false, 0.9),
        new("IVF16_HNSW8,SQ8", Metric.Cosine, false, 0.85),
        new("PCA16,Flat", Metric.L2, false, 0.5, ReportsStoredDistances: false),
        new("PCAW16,Flat", Metric.Cosine, false, 0.3, ReportsStoredDistances: false),
        new("PCAR16,HNSW16", Metric.InnerProduct, false, 0.4, ReportsStoredDistances: false),
        new("OPQ8,PQ8", Metric.L2, false, 0.5, ReportsStoredDistances: false),
        new("OPQ8_16,IVF16,PQ8", Metric.L2, false, 0.3, ReportsStoredDistances: false),
        new("PCA24,IVF16,SQ8,RFlat", Metric.L2, false, 0.8),
        new("IVF16,PQ8,RFlat", Metric.L2, false, 0.8),
        new("HNSW16,SQ4,RFlat", Metric.Cosine, false, 0.9),
        new("ITQ32,BFlat", Metric.Hamming, false, 0.15, Reference.L2, ReportsStoredDistances: false),
        new("BFlat", Metric.Hamming, true, 1, Reference.SignHamming),
        new("LSH128", Metric.Hamming, false, 0.3, Reference.Cosine),
        new("LSH128", Metric.Cosine, false, 0.3, Reference.Cosine, ReportsStoredDistances: false),
        new("LSH128t", Metric.Hamming, false, 0.3, Reference.Cosine),
        new("KDTree", Metric.L2, true, 1),
        new("RPForest8", Metric.L2, false, 0.8),
        new("RPForest8", Metric.InnerProduct, false, 0.5),
        new("RPForest8", Metric.Cosine, false, 0.8),
    ];

    public static TheoryData<string> AllCases()
    {
        var data = new TheoryData<string>();
        foreach (Case c in Cases) data.Add(Name(c));
        return data;
    }

    internal static string Name(Case c) => $"{c.Description} {c.Metric}";

    internal static Case Find(string name) => Array.Find(Cases, c => Name(c) == name) ?? throw new ArgumentException(name);

    // Clustered points scaled and rounded to integers: sums of their products are exact in float and double alike.
    internal static float[] IntegerData(int rows, int seed)
    {
        float[] data = TestData.Clustered(rows, D, 40, seed);
        for (int i = 0; i < data.Length; i++) data[i] = MathF.Round(data[i] * 2f);
        return data;
    }

    internal static readonly float[] Vectors = IntegerData(N, 7);
    internal static readonly float[] Queries = QueriesNearTheData();

    // Queries are stored points moved by a little integer noise, so each has real near neighbours.
    private static float[] QueriesNearTheData()
    {
        var random = new Random(8);
        var queries = new float[Q * D];
        for (int q = 0; q < Q; q++)
        {
            int row = random.Next(N);
            for (int j = 0; j < D; j++) queries[q * D + j] = Vectors[row * D + j] + random.Next(-2, 3);
        }
        return queries;
    }

    // Training (k-means, OPQ's alternation, graph building) dominates the suite, so each case is built once per row count
    // and every test gets its own copy loaded from the saved bytes; the save/load test builds its own from scratch.
    private static readonly ConcurrentDictionary<(string Name, int Rows), Lazy<byte[]>> Saved = new();

    internal static IVectorIndex BuildFresh(Case c, int rows = N)
    {
        IVectorIndex index = IndexFactory.Create(D, c.Description, c.Metric);
        if (!index.IsTrained) index.Train(Vectors);
        if (rows > 0) index.Add(Vectors.AsSpan(0, rows * D));
        return Tuned(index);
    }

    internal static IVectorIndex Build(Case c, int rows = N)
    {
        byte[] bytes = Saved.GetOrAdd((Name(c), rows), key => new Lazy<byte[]>(() =>
        {
            using var stream = new MemoryStream();
            BuildFresh(c, key.Rows).Save(stream);
            return stream.ToArray();
        })).Value;
        return Tuned(IndexFile.Load(new MemoryStream(bytes)));
    }

    internal static IVectorIndex Tuned(IVectorIndex index)
    {
        index.SetSearchParameterIfKnown("nprobe", 4);
        index.SetSearchParameterIfKnown("ef", 64);
        return index;
    }

    // ---- the reference --------------------------------------------------------------------------------------------

    internal static (long[] Ids, double[] Distances) BruteForce(Case c, ReadOnlySpan<float> query, int k, Func<long, bool>? keep = null)
    {
        Reference reference = c.Reference;
        Metric metric = reference switch
        {
            Reference.Cosine => Metric.Cosine,
            Reference.L2 => Metric.L2,
            _ => c.Metric,
        };
        var scored = new List<(double Key, long Id, double Distance)>();
        for (int r = 0; r < N; r++)
        {
            if (keep is not null && !keep(r)) continue;
            ReadOnlySpan<float> x = Vectors.AsSpan(r * D, D);
            double distance = reference == Reference.SignHamming ? SignHamming(query, x) : Exact(metric, query, x);
            scored.Add((metric.IsSimilarity() && reference != Reference.SignHamming ? -distance : distance, r, distance));
        }
        scored.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.Id.CompareTo(b.Id));
        return (scored.Take(k).Select(s => s.Id).ToArray(), scored.Take(k).Select(s => s.Distance).ToArray());
    }

    internal static double Exact(Metric metric, ReadOnlySpan<float> q, ReadOnlySpan<float> x)
    {
        double dot = 0, qq = 0, xx = 0, l2 = 0;
        for (int j = 0; j < q.Length; j++)
        {
            dot += (double)q[j] * x[j];
            qq += (double)q[j] * q[j];
            xx += (double)x[j] * x[j];
            l2 += ((double)q[j] - x[j]) * ((double)q[j] - x[j]);
        }
        return metric switch
        {
            Metric.L2 => l2,
            Metric.InnerProduct => dot,
            _ => dot / Math.Sqrt(qq * xx),
        };
    }

    internal static int SignHamming(ReadOnlySpan<float> q, ReadOnlySpan<float> x)
    {
        int differing = 0;
        for (int j = 0; j < q.Length; j++) if (q[j] > 0 != x[j] > 0) differing++;
        return differing;
    }

    // The value an index reports for a query against a vector it stores in the given (decoded) form.
    internal static double ReportedFor(Metric metric, ReadOnlySpan<float> query, ReadOnlySpan<float> stored)
    {
        if (metric != Metric.Cosine) return Exact(metric, query, stored);
        double norm = Math.Sqrt(Exact(Metric.InnerProduct, query, query));
        return Exact(Metric.InnerProduct, query, stored) / norm; // the query is normalised, the stored form is as stored
    }

    internal static double Recall(long[] found, Case c, int k = K)
    {
        int hits = 0;
        for (int q = 0; q < Q; q++)
        {
            var truth = BruteForce(c, Queries.AsSpan(q * D, D), k).Ids.ToHashSet();
            hits += found.AsSpan(q * k, k).ToArray().Count(truth.Contains);
        }
        return hits / (double)(Q * k);
    }
}

/// <summary>The contract's k-nearest-neighbour search, for every case of <see cref="IndexContract"/>.</summary>
public class IndexContractSearchTests
{
    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void Search_MatchesBruteForceExactly_OrReachesItsRecallFloor(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c);
        index.Count.Should().Be(N);
        index.Metric.Should().Be(c.Metric);
        SearchResult found = index.Search(Queries, K);
        found.QueryCount.Should().Be(Q);
        for (int q = 0; q < Q; q++)
        {
            found.DistancesOf(q).ToArray().Should().BeInAscendingOrder(
                c.Metric.IsSimilarity() ? Comparer<float>.Create((a, b) => b.CompareTo(a)) : Comparer<float>.Default, "neighbours come closest first");
            found.IdsOf(q).ToArray().Should().OnlyHaveUniqueItems();
        }
        if (!c.Exact)
        {
            Recall(found.Ids, c).Should().BeGreaterThanOrEqualTo(c.Floor, $"{name} must reach its recall floor");
            return;
        }
        for (int q = 0; q < Q; q++)
        {
            var (ids, distances) = BruteForce(c, Queries.AsSpan(q * D, D), K);
            found.IdsOf(q).ToArray().Should().Equal(ids, $"query {q} of an exact index");
            for (int j = 0; j < K; j++)
                found.DistancesOf(q)[j].Should().BeApproximately((float)distances[j], 1e-5f * Math.Max(1f, MathF.Abs((float)distances[j])));
        }
    }

    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void Search_ReportsDistancesToTheStoredForm_AndHonoursFilterAndK(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c);
        var stored = new float[D];
        // The reported value is the metric between the query and what Reconstruct gives back (decoded codes included).
        if (c.ReportsStoredDistances && index.Reconstruction != ReconstructionKind.None)
        {
            SearchResult found = index.Search(Queries.AsSpan(0, 5 * D), K);
            for (int q = 0; q < 5; q++)
                for (int j = 0; j < K; j++)
                {
                    index.Reconstruct(found.IdsOf(q)[j], stored);
                    double expected = ReportedFor(c.Metric, Queries.AsSpan(q * D, D), stored);
                    found.DistancesOf(q)[j].Should().BeApproximately((float)expected, 2e-3f * Math.Max(1f, MathF.Abs((float)expected)), $"{name}, query {q}, rank {j}");
                }
        }

        SearchResult even = index.Search(Queries, K, new SearchOptions { Filter = id => id % 2 == 0, MaxDegreeOfParallelism = 2 });
        even.Ids.Where(id => id != SearchResult.MissingId).Should().OnlyContain(id => id % 2 == 0);
        if (c.Exact)
            for (int q = 0; q < Q; q++)
                even.IdsOf(q).ToArray().Should().Equal(BruteForce(c, Queries.AsSpan(q * D, D), K, id => id % 2 == 0).Ids);

        // An empty (trained) index answers every search with missing neighbours, as Faiss does.
        IVectorIndex empty = Build(c, rows: 0);
        SearchResult none = empty.Search(Queries.AsSpan(0, 2 * D), 3);
        none.Ids.Should().Equal(-1L, -1L, -1L, -1L, -1L, -1L);
        none.Distances.Should().OnlyContain(v => float.IsNaN(v));
        empty.RangeSearch(Queries.AsSpan(0, 2 * D), 1e6f).Offsets.Should().Equal(0L, 0L, 0L);

        // More neighbours than exist: the tail is marked missing, with NaN distances.
        IVectorIndex small = Build(c, rows: 300);
        SearchResult padded = small.Search(Queries.AsSpan(0, D), 400, new HnswSearchOptions { Ef = 800 });
        padded.Ids.Count(id => id != SearchResult.MissingId).Should().BeLessThanOrEqualTo(300);
        if (c.Exact) padded.Ids.Count(id => id != SearchResult.MissingId).Should().Be(300);
        for (int j = 0; j < 400; j++)
            if (padded.Ids[j] == SearchResult.MissingId) float.IsNaN(padded.Distances[j]).Should().BeTrue();
        padded.Ids.SkipWhile(id => id != SearchResult.MissingId).Should().OnlyContain(id => id == SearchResult.MissingId, "missing neighbours come last");

        // One query at a time agrees with the batch (threads change nothing).
        SearchResult batch = index.Search(Queries, K, new SearchOptions { MaxDegreeOfParallelism = 2 });
        for (int q = 0; q < 3; q++)
            index.Search(Queries.AsSpan(q * D, D), K, new SearchOptions { MaxDegreeOfParallelism = 1 }).Ids.Should().Equal(batch.IdsOf(q).ToArray());
    }
}

/// <summary>The contract's range search, removal, <c>Contains</c> and <c>GetIds</c>, for every case of <see cref="IndexContract"/>.</summary>
public class IndexContractRangeAndRemovalTests
{
    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void RangeSearch_ReturnsOnlyNeighboursInsideTheRadius_AllOfThemForExactKinds(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c);
        // A radius around the 5th neighbour of the typical query, from the index's own distances.
        SearchResult knn = index.Search(Queries, 5);
        float[] fifth = Enumerable.Range(0, Q).Select(q => knn.DistancesOf(q)[4]).Order().ToArray();
        float radius = fifth[Q / 2];
        if (!c.Metric.IsSimilarity()) radius += 0.5f; // integer Hamming and L2 distances: include the 5th itself
        bool similarity = c.Metric.IsSimilarity();
        RangeSearchResult range = index.RangeSearch(Queries, radius);
        range.QueryCount.Should().Be(Q);
        for (int q = 0; q < Q; q++)
        {
            float[] distances = range.DistancesOf(q).ToArray();
            distances.All(v => similarity ? v > radius : v < radius).Should().BeTrue("nothing outside the radius");
            distances.Should().BeInAscendingOrder(similarity ? Comparer<float>.Create((a, b) => b.CompareTo(a)) : Comparer<float>.Default);
            long[] ids = range.IdsOf(q).ToArray();
            ids.Should().OnlyHaveUniqueItems();
            ids.All(id => id >= 0 && id < N).Should().BeTrue();
            if (!c.Exact) continue;
            // Everything clearly inside is returned, nothing clearly outside; a value within rounding of the radius may go either way.
            double[] values = Enumerable.Range(0, N).Select(r =>
            {
                ReadOnlySpan<float> x = Vectors.AsSpan(r * D, D);
                return c.Reference == Reference.SignHamming ? SignHamming(Queries.AsSpan(q * D, D), x) : Exact(c.Metric, Queries.AsSpan(q * D, D), x);
            }).ToArray();
            double margin = 1e-5 * Math.Max(1, Math.Abs(radius));
            var surely = Enumerable.Range(0, N).Where(r => similarity ? values[r] > radius + margin : values[r] < radius - margin).Select(r => (long)r);
            var maybe = Enumerable.Range(0, N).Where(r => similarity ? values[r] > radius - margin : values[r] < radius + margin).Select(r => (long)r).ToHashSet();
            surely.All(ids.Contains).Should().BeTrue($"query {q}: an exact index returns everything inside the radius");
            ids.All(maybe.Contains).Should().BeTrue($"query {q}: and nothing outside it");
        }
        range.Ids.Length.Should().BeGreaterThan(0, "the radius was chosen to hold neighbours");
    }

    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void RemoveContainsAndIds_StayInStep(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c);
        index.GetIds().Order().Should().Equal(Enumerable.Range(0, N).Select(i => (long)i));
        index.Contains(0).Should().BeTrue();
        index.Contains(N).Should().BeFalse();
        index.Contains(-1).Should().BeFalse();

        long[] removed = Enumerable.Range(0, N).Where(i => i % 3 == 0).Select(i => (long)i).ToArray();
        index.Remove([.. removed, removed[0]]).Should().Be(removed.Length, "an id listed twice is removed once");
        index.Count.Should().Be(N - removed.Length);
        foreach (long id in removed.Take(50)) index.Contains(id).Should().BeFalse();
        index.Contains(1).Should().BeTrue();
        index.GetIds().Order().Should().Equal(Enumerable.Range(0, N).Where(i => i % 3 != 0).Select(i => (long)i));
        index.Search(Queries, K).Ids.Should().NotContain(id => id >= 0 && id % 3 == 0, "removed ids never come back");
        FluentActions.Invoking(() => index.Reconstruct(removed[1], new float[D])).Should().Throw<Exception>()
            .Which.Should().Match(e => e is KeyNotFoundException || e is NotSupportedException);

        // An unknown id anywhere in the list removes nothing.
        FluentActions.Invoking(() => index.Remove([1, 2, 999_999])).Should().Throw<KeyNotFoundException>().WithMessage("*999999*");
        index.Count.Should().Be(N - removed.Length);
        index.Contains(1).Should().BeTrue();

        // Removed ids can be added again, and automatic ids continue past the largest id ever used.
        index.Add(Vectors.AsSpan(0, D), [0L]);
        index.Contains(0).Should().BeTrue();
        long first = index.Add(Vectors.AsSpan(D, 2 * D));
        first.Should().Be(N);
        index.Contains(N + 1).Should().BeTrue();
    }
}

/// <summary>The contract's reconstruction and save/load round trips, for every case of <see cref="IndexContract"/>.</summary>
public class IndexContractStorageTests
{
    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void Reconstruct_GivesTheStoredForm_WithoutAllocating_OrSaysItCannot(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c);
        var destination = new float[D];
        if (index.Reconstruction == ReconstructionKind.None)
        {
            FluentActions.Invoking(() => index.Reconstruct(3, destination)).Should().Throw<NotSupportedException>().WithMessage("*Reconstruction is None*");
            return;
        }
        FluentActions.Invoking(() => index.Reconstruct(N + 5, destination)).Should().Throw<KeyNotFoundException>();
        FluentActions.Invoking(() => index.Reconstruct(3, new float[D - 1])).Should().Throw<ArgumentException>().WithMessage("*destination*");

        double worst = 0;
        for (long id = 0; id < 200; id++)
        {
            index.Reconstruct(id, destination);
            float[] original = Vectors.AsSpan((int)id * D, D).ToArray();
            if (c.Metric == Metric.Cosine)
            {
                float norm = MathF.Sqrt(original.Sum(v => v * v));
                for (int j = 0; j < D; j++) original[j] /= norm;
            }
            if (index.Reconstruction == ReconstructionKind.Exact)
            {
                if (c.Metric == Metric.Cosine) destination.Should().BeEquivalentTo(original, o => o.Using<float>(x => x.Subject.Should().BeApproximately(x.Expectation, 1e-6f)).WhenTypeIs<float>());
                else destination.Should().Equal(original, $"{name} stores id {id} exactly");
            }
            double error = 0, size = 0;
            for (int j = 0; j < D; j++)
            {
                error += (destination[j] - original[j]) * (double)(destination[j] - original[j]);
                size += original[j] * (double)original[j];
            }
            worst = Math.Max(worst, error / size);
        }
        // Decoded forms are close: relative squared error well below that of a random guess (which is about 2).
        worst.Should().BeLessThan(index.Reconstruction == ReconstructionKind.Exact ? 1e-10 : 0.6, name);

        for (int warm = 0; warm < 3; warm++) index.Reconstruct(warm, destination);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long id = 0; id < 50; id++)
        {
            index.Reconstruct(id, destination);
            index.Contains(id);
        }
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, "re-ranking calls Reconstruct and Contains per candidate");
    }

    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public async Task SaveAndLoad_SyncAndAsync_GiveTheSameIndex(string name)
    {
        Case c = Find(name);
        IVectorIndex index = BuildFresh(c);
        index.Remove([5, 6]);
        SearchResult expected = index.Search(Queries, K);

        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        IVectorIndex loaded = IndexFile.Load(stream);
        await using var asyncStream = new MemoryStream();
        await index.SaveAsync(asyncStream);
        asyncStream.ToArray().Should().Equal(stream.ToArray(), "the asynchronous save writes the same bytes");
        asyncStream.Position = 0;
        IVectorIndex loadedAsync = await IndexFile.LoadAsync(asyncStream);

        foreach (IVectorIndex copy in new[] { loaded, loadedAsync })
        {
            copy.Kind.Should().Be(index.Kind);
            copy.Metric.Should().Be(index.Metric);
            copy.Count.Should().Be(index.Count);
            copy.Reconstruction.Should().Be(index.Reconstruction);
            copy.GetIds().Should().BeEquivalentTo(index.GetIds());
            copy.SetSearchParameterIfKnown("nprobe", 4);
            copy.SetSearchParameterIfKnown("ef", 64);
            SearchResult again = copy.Search(Queries, K);
            again.Ids.Should().Equal(expected.Ids);
            again.Distances.Should().Equal(expected.Distances);
            copy.Add(Vectors.AsSpan(0, D)).Should().Be(N, "the next automatic id survives the round trip");
        }
        if (index.Reconstruction != ReconstructionKind.None)
            loaded.Reconstruct(7).Should().Equal(index.Reconstruct(7));
    }
}

/// <summary>The contract's bad-input and training rules, for every case of <see cref="IndexContract"/>.</summary>
public class IndexContractInputTests
{
    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void BadInput_IsRejected_WithoutChangingTheIndex(string name)
    {
        Case c = Find(name);
        IVectorIndex fresh = IndexFactory.Create(D, c.Description, c.Metric);
        if (!fresh.IsTrained)
        {
            FluentActions.Invoking(() => fresh.Add(Vectors.AsSpan(0, D))).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
            FluentActions.Invoking(() => fresh.Search(Queries.AsSpan(0, D), 1)).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
            FluentActions.Invoking(() => fresh.RangeSearch(Queries.AsSpan(0, D), 1f)).Should().Throw<InvalidOperationException>().WithMessage("*Train*");
        }
        FluentActions.Invoking(() => fresh.Train(new float[D + 1])).Should().Throw<ArgumentException>().WithMessage("*dimension*");
        FluentActions.Invoking(() => fresh.Train([])).Should().Throw<ArgumentException>().WithMessage("*at least one*");

        IVectorIndex index = Build(c, rows: 300);
        long[] ids = index.GetIds();
        void Unchanged()
        {
            index.Count.Should().Be(300);
            index.GetIds().Should().Equal(ids);
        }

        float[] nan = Vectors[..(2 * D)];
        nan[D + 3] = float.NaN;
        long[] taken = [5];
        (Action Call, Type Exception, string Message)[] bad =
        [
            (() => index.Add(new float[D + 1]), typeof(ArgumentException), "*dimension*"),
            (() => index.Add(nan), typeof(ArgumentException), "*Row 1, component 3*NaN*"),
            (() => index.Add(Vectors.AsSpan(0, 2 * D), [400L, 400L]), typeof(ArgumentException), "*twice*"),
            (() => index.Add(Vectors.AsSpan(0, 2 * D), [400L, 5L]), typeof(ArgumentException), "*already in the index*"),
            (() => index.Add(Vectors.AsSpan(0, D), [-4L]), typeof(ArgumentException), "*non-negative*"),
            (() => index.Add(Vectors.AsSpan(0, D), [long.MaxValue]), typeof(ArgumentException), "*reserved*"),
            (() => index.Add(Vectors.AsSpan(0, 2 * D), taken), typeof(ArgumentException), "*2 vectors but 1 ids*"),
            (() => index.Search(new float[D - 1], 1), typeof(ArgumentException), "*dimension*"),
            (() => index.Search(nan, 1), typeof(ArgumentException), "*NaN*"),
            (() => index.Search(Queries.AsSpan(0, D), 0), typeof(ArgumentOutOfRangeException), "*k*"),
            (() => index.Search(Queries.AsSpan(0, D), 5, new long[4], new float[5]), typeof(ArgumentException), "*queryCount × k*"),
            (() => index.RangeSearch(Queries.AsSpan(0, D), float.NaN), typeof(ArgumentOutOfRangeException), "*finite*"),
            (() => index.Search(Queries.AsSpan(0, D), 1, new SearchOptions { MaxDegreeOfParallelism = -1 }), typeof(ArgumentOutOfRangeException), "*MaxDegreeOfParallelism*"),
            (() => index.Remove([123_456_789L]), typeof(KeyNotFoundException), "*123456789*"),
            (() => index.SetSearchParameter("no_such_knob", 1), typeof(ArgumentException), "*no_such_knob*"),
            (() => index.Train(Vectors), typeof(InvalidOperationException), "*already holds 300 vectors*Train must come before*"),
        ];
        foreach (var (call, exception, message) in bad)
        {
            FluentActions.Invoking(call).Should().Throw<Exception>().Where(e => exception.IsInstanceOfType(e), $"{name}: expected {exception.Name}")
                .WithMessage(message);
            Unchanged();
        }
        if (c.Metric == Metric.Cosine)
        {
            FluentActions.Invoking(() => index.Add(new float[2 * D], [400L, 401L])).Should().Throw<ArgumentException>().WithMessage("*zero vector*");
            Unchanged();
            FluentActions.Invoking(() => index.Search(new float[D], 1)).Should().Throw<ArgumentException>().WithMessage("*zero vector*");
        }
    }

    [Theory]
    [MemberData(nameof(IndexContract.AllCases), MemberType = typeof(IndexContract))]
    public void Train_OnATrainedEmptyIndex_ChangesNothing_AndLogsIt(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c, rows: 0);
        using var stream = new MemoryStream();
        index.Save(stream);
        var log = new ListLogger();
        index.Train(IntegerData(600, 99), new IndexBuildOptions { Logger = log });
        log.Messages.Should().ContainSingle(m => m.Contains("already trained", StringComparison.Ordinal));
        using var again = new MemoryStream();
        index.Save(again);
        again.ToArray().Should().Equal(stream.ToArray(), "the second Train must not change what the index learnt");
    }
}
