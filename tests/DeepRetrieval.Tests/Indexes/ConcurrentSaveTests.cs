using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// Issue 16, finding 1: an index that allows adds beside other work (<see cref="HnswIndex"/>: adds, removes and saves are
/// serialised, searches run beside them) must save one consistent state. Before the fix, the next id was raised after the
/// write lock was released, so a save waiting on the lock recorded the new nodes with the old next id, and the file could
/// not be loaded; two adders with automatic ids could also draw the same ids.
/// </summary>
public class ConcurrentSaveTests
{
    private const int D = 16, Batch = 40, Batches = 60;

    public static TheoryData<bool, bool> Cases() => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SavesTakenWhileTwoThreadsAdd_AllLoad_WithEveryIdBelowTheNextId(bool quantized, bool automaticIds)
    {
        float[] data = TestData.Clustered(2 * Batch * Batches, D, 20, 3);
        HnswIndex index = quantized ? new HnswIndex(D, ScalarQuantizerType.SQ8, m: 8, efConstruction: 32) : new HnswIndex(D, m: 8, efConstruction: 32);
        index.BuildThreads = 1;
        if (quantized) index.Train(data);
        using var stop = new CancellationTokenSource();

        // Two adders interleaving their batches, with automatic ids or with their own (batch b holds ids b·Batch onwards).
        Task Adder(int which) => Task.Run(() =>
        {
            for (int b = which; b < 2 * Batches; b += 2)
            {
                if (automaticIds) index.Add(data.AsSpan(b * Batch * D, Batch * D));
                else index.Add(data.AsSpan(b * Batch * D, Batch * D), Enumerable.Range(b * Batch, Batch).Select(i => (long)i).ToArray());
            }
        });
        Task adding = Task.WhenAll(Adder(0), Adder(1));

        int snapshots = 0;
        long lastCount = 0;
        Task saving = Task.Run(() =>
        {
            while (!adding.IsCompleted || snapshots < 5)
            {
                using var stream = new MemoryStream();
                index.Save(stream);
                stream.Position = 0;
                var loaded = (HnswIndex)IndexFile.Load(stream); // throws InvalidDataException on an inconsistent file
                loaded.Count.Should().BeGreaterThanOrEqualTo(lastCount, "a later snapshot never holds fewer vectors");
                lastCount = loaded.Count;
                long[] ids = loaded.GetIds();
                ids.Should().OnlyHaveUniqueItems();
                if (ids.Length > 0) ids.Max().Should().BeLessThan(loaded.NextId);
                loaded.Add(data.AsSpan(0, D)).Should().Be(loaded.NextId - 1, "a loaded snapshot keeps adding after its own ids");
                snapshots++;
            }
        });
        await Task.WhenAll(adding, saving);

        snapshots.Should().BeGreaterThanOrEqualTo(5);
        index.Count.Should().Be(2 * Batch * Batches);
        index.NextId.Should().Be(2 * Batch * Batches);
        index.GetIds().Order().Should().Equal(Enumerable.Range(0, 2 * Batch * Batches).Select(i => (long)i),
            "automatic ids are reserved atomically: two adders never draw the same ids");
        snapshots.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task ConcurrentAddsWithOwnIds_RaiseTheNextIdWithoutLosingAnUpdate()
    {
        var index = new HnswIndex(D, m: 8, efConstruction: 32) { BuildThreads = 1 };
        float[] data = TestData.Gaussian(400, D, 5);
        // Each thread adds ids from its own range; the next id must end one past the largest of all of them.
        Task Adder(long start) => Task.Run(() =>
        {
            for (int i = 0; i < 100; i++)
                index.Add(data.AsSpan(i * D, D), [start + i]);
        });
        await Task.WhenAll(Adder(0), Adder(1000), Adder(2000), Adder(3000));
        index.Count.Should().Be(400);
        index.NextId.Should().Be(3100);
    }
}
