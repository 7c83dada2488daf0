using DeepRetrieval.VectorData.Persistence;
using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// A collection lives in its folder: writes survive reopening (log replay and checkpoints), a torn log tail is cut off,
/// damage before the tail is refused, a missing index file is rebuilt, and leftovers of an interrupted checkpoint are removed.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string CollectionFolder => Path.Combine(_folder.Path, "items");

    private DeepRetrievalVectorStore Store(long checkpointBytes = 64L << 20, bool checkpointOnClose = true) =>
        new(_folder.Path, new DeepRetrievalVectorStoreOptions { Storage = { CheckpointLogBytes = checkpointBytes } });

    private static Item ItemOf(int i) => new() { Key = i, Number = i, Text = $"text {i}", Vector = new([i, 1, -i]) };

    private async Task WriteAsync(IEnumerable<int> keys, long checkpointBytes = 64L << 20)
    {
        using var store = Store(checkpointBytes);
        using var collection = store.GetCollection<int, Item>("items", IndexKindDefinition());
        await collection.EnsureCollectionExistsAsync();
        foreach (int[] chunk in keys.Chunk(7)) await collection.UpsertAsync(chunk.Select(ItemOf));
    }

    private static VectorStoreCollectionDefinition IndexKindDefinition() => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty("Key", typeof(int)),
            new VectorStoreDataProperty("Text", typeof(string)) { StorageName = "text" },
            new VectorStoreDataProperty("Number", typeof(int)) { StorageName = "number" },
            new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), 3) { StorageName = "vector", IndexKind = IndexKind.Hnsw, DistanceFunction = DistanceFunction.EuclideanSquaredDistance },
        ],
    };

    private async Task<List<int>> ReadKeysAsync()
    {
        using var store = Store();
        using var collection = store.GetCollection<int, Item>("items", IndexKindDefinition());
        var items = await collection.GetAsync(r => true, top: 100_000).ToListAsync();
        foreach (Item item in items) item.Text.Should().Be($"text {item.Key}");
        var nearest = await collection.SearchAsync(new ReadOnlyMemory<float>([5, 1, -5]), top: 1).ToListAsync();
        if (items.Any(i => i.Key == 5)) nearest.Single().Record.Key.Should().Be(5);
        return items.Select(i => i.Key).Order().ToList();
    }

    [Fact]
    public async Task Writes_SurviveReopening_FromTheLogAlone_AndAfterCheckpoints()
    {
        // A tiny checkpoint threshold checkpoints every few writes; deletes and updates replay too.
        await WriteAsync(Enumerable.Range(0, 200), checkpointBytes: 2048);
        using (var store = Store(checkpointBytes: 1 << 20))
        using (var collection = store.GetCollection<int, Item>("items", IndexKindDefinition()))
        {
            await collection.DeleteAsync(Enumerable.Range(0, 200).Where(i => i % 10 == 0));
            await collection.UpsertAsync(new Item { Key = 3, Number = 3, Text = "text 3", Vector = new([3, 1, -3]) });
        }

        (await ReadKeysAsync()).Should().Equal(Enumerable.Range(0, 200).Where(i => i % 10 != 0));
        Directory.GetFiles(CollectionFolder).Select(Path.GetFileName).Should().OnlyContain(n => n!.StartsWith("snapshot-") || n.StartsWith("index-") || n.StartsWith("log-") || n == "manifest" || n == "LOCK");
    }

    [Fact]
    public async Task ATornLastEntry_IsCutOff_AndEverythingBeforeItIsKept()
    {
        using (var store = new DeepRetrievalVectorStore(_folder.Path, new DeepRetrievalVectorStoreOptions()))
        using (var collection = store.GetCollection<int, Item>("items", IndexKindDefinition()))
        {
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(Enumerable.Range(0, 10).Select(ItemOf));
            await collection.UpsertAsync(Enumerable.Range(10, 10).Select(ItemOf));
            // Keep the log: close without a checkpoint by deleting nothing and copying the files while open.
            CopyFolder(CollectionFolder, CollectionFolder + "-copy");
        }
        ReplaceWithCopy();
        string log = Directory.GetFiles(CollectionFolder, "log-*").Single();
        long length = new FileInfo(log).Length;

        foreach (int cut in new[] { 3, 40, 200 })
        {
            string backup = log + ".bak";
            File.Copy(log, backup, overwrite: true);
            using (var stream = new FileStream(log, FileMode.Open)) stream.SetLength(length - cut);
            (await ReadKeysAsync()).Should().Equal(Enumerable.Range(0, 10), $"cutting {cut} bytes tears only the second write");
            File.Copy(backup, log, overwrite: true);
            File.Delete(backup);
            // Reading checkpointed on close; restore the uncheckpointed state for the next cut.
            ReplaceWithCopy();
        }
    }

    [Fact]
    public async Task AZeroFilledTail_IsCutOff()
    {
        await KeepLogAsync(20);
        string log = Directory.GetFiles(CollectionFolder, "log-*").Single();
        using (var stream = new FileStream(log, FileMode.Append)) stream.Write(new byte[4096]);

        (await ReadKeysAsync()).Should().Equal(Enumerable.Range(0, 20));
    }

    [Fact]
    public async Task DamageBeforeTheTail_IsRefused_NamingTheFile()
    {
        await KeepLogAsync(20);
        string log = Directory.GetFiles(CollectionFolder, "log-*").Single();
        byte[] bytes = File.ReadAllBytes(log);
        bytes[24 + 8 + 20] ^= 0x40; // inside the first entry's payload; the second entry follows it
        File.WriteAllBytes(log, bytes);

        using var store = Store();
        using var collection = store.GetCollection<int, Item>("items", IndexKindDefinition());
        Func<Task> open = () => collection.GetAsync(1);

        var error = (await open.Should().ThrowAsync<VectorStoreException>()).Which;
        error.InnerException.Should().BeOfType<InvalidDataException>().Which.Message.Should().Contain("fails its checksum and more entries follow");
        error.Message.Should().Contain(log);
    }

    [Fact]
    public async Task ACorruptSnapshot_IsRefused()
    {
        await WriteAsync(Enumerable.Range(0, 30));
        string snapshot = Directory.GetFiles(CollectionFolder, "snapshot-*").Single();
        byte[] bytes = File.ReadAllBytes(snapshot);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(snapshot, bytes);

        Func<Task> read = ReadKeysAsync;
        (await read.Should().ThrowAsync<VectorStoreException>()).Which.InnerException!.Message.Should().Contain("checksum");
    }

    [Fact]
    public async Task AMissingIndexFile_IsRebuiltFromTheSnapshot()
    {
        await WriteAsync(Enumerable.Range(0, 30));
        File.Delete(Directory.GetFiles(CollectionFolder, "index-*").Single());

        (await ReadKeysAsync()).Should().Equal(Enumerable.Range(0, 30));
    }

    [Fact]
    public async Task LeftoversOfAnInterruptedCheckpoint_AreRemoved_AndIgnored()
    {
        await WriteAsync(Enumerable.Range(0, 30));
        string manifest = Path.Combine(CollectionFolder, "manifest");
        long generation = Directory.GetFiles(CollectionFolder, "snapshot-*").Select(f => long.Parse(Path.GetFileName(f)["snapshot-".Length..])).Single();
        // A checkpoint that wrote its new files but died before replacing the manifest: garbage that must be ignored.
        File.WriteAllBytes(Path.Combine(CollectionFolder, $"snapshot-{generation + 1}"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(CollectionFolder, $"log-{generation + 1}"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(CollectionFolder, $"index-{generation + 1}-0.drix"), [1, 2, 3]);
        File.WriteAllBytes(manifest + ".0123.tmp", [1]);

        (await ReadKeysAsync()).Should().Equal(Enumerable.Range(0, 30));
        Directory.GetFiles(CollectionFolder).Should().NotContain(f => f.EndsWith(".tmp") || f.Contains($"-{generation + 1}"));
    }

    [Fact]
    public async Task AFolderOpenInThisProcess_IsSharedByHandles_AndLockedAgainstOtherEngines()
    {
        await WriteAsync(Enumerable.Range(0, 5));
        using var store = Store();
        using var collection = store.GetCollection<int, Item>("items", IndexKindDefinition());
        (await collection.GetAsync(1)).Should().NotBeNull();

        Action second = () => DurableRecordEngine.Open(CollectionFolder, null).Dispose();

        second.Should().Throw<InvalidOperationException>().WithMessage("*open in another process*");
    }

    // Writes records and leaves their log un-checkpointed (by copying the folder while the collection is open).
    private async Task KeepLogAsync(int count)
    {
        using (var store = Store())
        using (var collection = store.GetCollection<int, Item>("items", IndexKindDefinition()))
        {
            await collection.EnsureCollectionExistsAsync();
            foreach (int i in Enumerable.Range(0, count)) await collection.UpsertAsync(ItemOf(i));
            CopyFolder(CollectionFolder, CollectionFolder + "-copy");
        }
        ReplaceWithCopy();
    }

    private void ReplaceWithCopy()
    {
        Directory.Delete(CollectionFolder, recursive: true);
        CopyFolder(CollectionFolder + "-copy", CollectionFolder);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
            if (Path.GetFileName(file) != "LOCK") File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }
}
