using System.Collections.Concurrent;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using static DeepRetrieval.Tests.Indexes.IndexContract;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// The thread-safety contract of docs/indexes.md, one stress test per index kind, doing exactly what the table allows.
/// Every kind: searches, range searches, <c>Contains</c>, <c>Reconstruct</c>, <c>GetIds</c> and saves (with reloads) run
/// on several threads at once, and must each give what the same call gives on one thread; between such phases a writer
/// adds and removes alone. HNSW additionally: adds and removes beside all of those, and every save taken meanwhile loads.
/// </summary>
public class ThreadSafetyContractTests
{
    private const int Readers = 3;
    private static readonly TimeSpan PhaseLength = TimeSpan.FromMilliseconds(250);

    // One factory string per index kind (PreTransform, RFlat and IVF as composites over others).
    public static TheoryData<string> Kinds() => new()
    {
        "Flat L2", "HNSW16 L2", "HNSW16,SQ8 L2", "SQ8 L2", "PQ8 L2", "IVF16,Flat L2", "IVF16_HNSW8,SQ8 Cosine", "PCA16,Flat L2",
        "IVF16,PQ8,RFlat L2", "BFlat Hamming", "ITQ32,BFlat Hamming", "LSH128 Hamming", "KDTree L2", "RPForest8 L2",
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ReadersRunTogether_IncludingSavesAndReloads_AndWritersAlone(string name)
    {
        Case c = Find(name);
        IVectorIndex index = Build(c, rows: 1000);
        float[] probe = Queries.AsSpan(0, 8 * D).ToArray();
        for (int phase = 0; phase < 3; phase++)
        {
            // What one thread sees in this state; every concurrent reader must see the same.
            SearchResult expected = index.Search(probe, K);
            RangeSearchResult expectedRange = index.RangeSearch(probe.AsSpan(0, D), RadiusFor(c, expected));
            long[] ids = index.GetIds();
            byte[] saved = Save(index);
            bool reconstructs = index.Reconstruction != ReconstructionKind.None;
            float[] expectedVector = new float[D];
            if (reconstructs) index.Reconstruct(ids[0], expectedVector);

            var failures = new ConcurrentQueue<Exception>();
            DateTime until = DateTime.UtcNow + PhaseLength;
            Task[] readers = Enumerable.Range(0, Readers).Select(worker => Task.Run(() =>
            {
                var random = new Random(worker * 31 + phase);
                var vector = new float[D];
                try
                {
                    while (DateTime.UtcNow < until)
                    {
                        switch (random.Next(5))
                        {
                            case 0:
                                SearchResult found = index.Search(probe, K);
                                found.Ids.Should().Equal(expected.Ids);
                                found.Distances.Should().Equal(expected.Distances);
                                break;
                            case 1:
                                index.RangeSearch(probe.AsSpan(0, D), RadiusFor(c, expected)).Ids.Should().Equal(expectedRange.Ids);
                                break;
                            case 2:
                                index.Contains(ids[random.Next(ids.Length)]).Should().BeTrue();
                                index.GetIds().Should().Equal(ids);
                                break;
                            case 3:
                                if (!reconstructs) break;
                                index.Reconstruct(ids[0], vector);
                                vector.Should().Equal(expectedVector);
                                break;
                            default:
                                byte[] bytes = Save(index);
                                bytes.Should().Equal(saved, "a save beside readers writes the same state");
                                IVectorIndex loaded = Tuned(IndexFile.Load(new MemoryStream(bytes)));
                                loaded.Search(probe, K).Ids.Should().Equal(expected.Ids);
                                break;
                        }
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            })).ToArray();
            await Task.WhenAll(readers);
            failures.Should().BeEmpty($"{name}, phase {phase}: readers running together must not disturb each other");

            // The writer, alone: remove some ids, add new rows under automatic and own ids.
            index.Remove(ids.Take(40).ToArray()).Should().Be(40);
            index.Add(Vectors.AsSpan(1000 * D, 20 * D));
            long own = ((VectorIndex)index).NextId + 100; // a gap above the automatic ids
            index.Add(Vectors.AsSpan(1020 * D, 20 * D), Enumerable.Range(0, 20).Select(i => own + i).ToArray());
            index.Count.Should().Be(ids.Length);
        }
    }

    [Theory]
    [InlineData("HNSW16")]
    [InlineData("HNSW16,SQ8")]
    public async Task Hnsw_AddsRemovesSearchesSavesAndReloads_AllAtOnce(string description)
    {
        var index = (HnswIndex)IndexFactory.Create(D, description);
        index.BuildThreads = 1;
        if (!index.IsTrained) index.Train(Vectors);
        index.Add(Vectors.AsSpan(0, 500 * D)); // ids 0..499; the remover takes 0..299 away while others work
        var added = new ConcurrentDictionary<long, bool>();
        for (long id = 0; id < 500; id++) added[id] = true;
        var automaticIds = new ConcurrentBag<long>();
        var failures = new ConcurrentQueue<Exception>();

        Task Guard(Action body) => Task.Run(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        });

        // Own ids count down from ten million, so the automatic ids (upwards from the next id) never reach them.
        Task adder = Guard(() =>
        {
            for (int b = 0; b < 30; b++)
            {
                long[] ids = Enumerable.Range(0, 20).Select(i => 10_000_000L - (b + 1) * 20 + i).ToArray();
                foreach (long id in ids) added[id] = true;
                index.Add(Vectors.AsSpan((500 + b * 20) * D, 20 * D), ids);
            }
        });
        Task automatic = Guard(() =>
        {
            for (int b = 0; b < 30; b++)
            {
                long first = index.Add(Vectors.AsSpan((1100 + b * 20) * D, 20 * D));
                for (long id = first; id < first + 20; id++) automaticIds.Add(id);
            }
        });
        Task remover = Guard(() =>
        {
            for (int b = 0; b < 30; b++)
                index.Remove(Enumerable.Range(b * 10, 10).Select(i => (long)i).ToArray()).Should().Be(10);
        });
        Task writers = Task.WhenAll(adder, automatic, remover);
        Task[] readers = Enumerable.Range(0, 2).Select(worker => Guard(() =>
        {
            var random = new Random(worker);
            var vector = new float[D];
            while (!writers.IsCompleted)
            {
                SearchResult found = index.Search(Queries.AsSpan(random.Next(Q) * D, D), K);
                long nextId = index.NextId;
                for (int i = 0; i < K; i++)
                {
                    long id = found.Ids[i];
                    if (id == SearchResult.MissingId) continue;
                    // Added before (own ids are recorded before their add; automatic ones lie below the next id).
                    (added.ContainsKey(id) || id < nextId).Should().BeTrue($"a search never returns an id that was not added (got {id})");
                    float.IsNaN(found.Distances[i]).Should().BeFalse();
                }
                long probeId = 400 + random.Next(100); // never removed
                index.Contains(probeId).Should().BeTrue();
                index.Reconstruct(probeId, vector);
            }
        })).ToArray();
        int snapshots = 0;
        Task saver = Guard(() =>
        {
            while (!writers.IsCompleted || snapshots < 3)
            {
                byte[] bytes = Save(index);
                var loaded = (HnswIndex)IndexFile.Load(new MemoryStream(bytes));
                long[] ids = loaded.GetIds();
                ids.Should().OnlyHaveUniqueItems();
                if (ids.Length > 0) ids.Max().Should().BeLessThan(loaded.NextId);
                loaded.Search(Queries.AsSpan(0, D), K).Ids.Should().OnlyContain(id => id == SearchResult.MissingId || ids.Contains(id));
                snapshots++;
            }
        });
        await Task.WhenAll([writers, saver, .. readers]);
        failures.Should().BeEmpty();

        index.Count.Should().Be(500 - 300 + 600 + 600);
        automaticIds.Should().OnlyHaveUniqueItems("automatic ids are reserved atomically").And.HaveCount(600);
        index.GetIds().Order().Should().Equal(added.Keys.Where(id => id >= 300).Concat(automaticIds).Order());
        var final = (HnswIndex)IndexFile.Load(new MemoryStream(Save(index)));
        final.GetIds().Order().Should().Equal(index.GetIds().Order());
    }

    private static byte[] Save(IVectorIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }

    // A radius that holds about half of the first query's neighbours, in the metric's own sense.
    private static float RadiusFor(Case c, SearchResult found)
    {
        float value = found.Distances[K / 2];
        return float.IsNaN(value) ? (c.Metric.IsSimilarity() ? 0f : 1f) : value;
    }
}
