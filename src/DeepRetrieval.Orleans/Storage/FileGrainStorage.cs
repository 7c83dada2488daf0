using System.IO.Hashing;
using System.Text;
using DeepRetrieval.VectorData.Persistence;
using Orleans.Storage;

namespace DeepRetrieval.Orleans.Storage;

/// <summary>
/// An Orleans grain storage provider that keeps each grain state in a file under a folder: for tests, and for clusters
/// whose silos share one machine (or one shared disk). Writes go through a temporary file, a flush to disk and a rename, so a
/// killed silo leaves the old state or the new one; ETags are version numbers checked under a lock that works across
/// processes, so conditional writes are safe between silos sharing the folder.
/// </summary>
/// <remarks>
/// File name: the encoded state name and grain id (<c>FolderRecordEngineProvider.EncodeName</c>), in a sub-folder chosen by a
/// hash of both. Content: the version (int64, little-endian), then the state as the storage serializer writes it.
/// </remarks>
public sealed class FileGrainStorage : IGrainStorage
{
    private const int LockStripes = 64;
    private readonly string _root;
    private readonly IGrainStorageSerializer _serializer;
    private readonly SemaphoreSlim[] _localLocks = Enumerable.Range(0, LockStripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>Creates the provider.</summary>
    /// <param name="root">The folder (created when missing).</param>
    /// <param name="serializer">How states are turned into bytes.</param>
    public FileGrainStorage(string root, IGrainStorageSerializer serializer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentNullException.ThrowIfNull(serializer);
        _root = Path.GetFullPath(root);
        _serializer = serializer;
        Directory.CreateDirectory(Path.Combine(_root, ".locks"));
    }

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var (path, stripe) = Locate(stateName, grainId);
        await using var _ = await LockAsync(stripe).ConfigureAwait(false);
        if (!File.Exists(path))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        byte[] bytes = await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: a grain state file is {bytes.Length} bytes, shorter than its version.");
        long version = BitConverter.ToInt64(bytes, 0);
        grainState.State = _serializer.Deserialize<T>(new BinaryData(bytes.AsMemory(8)));
        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var (path, stripe) = Locate(stateName, grainId);
        byte[] payload = _serializer.Serialize(grainState.State).ToArray();
        await using var _ = await LockAsync(stripe).ConfigureAwait(false);
        long current = CurrentVersion(path);
        CheckETag(current, grainState.ETag, stateName, grainId, "write");
        long next = current + 1;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // AtomicFile deletes the temporary when a write or the flush fails (a full disk) and removes those of killed silos.
        using (var file = new AtomicFile(path))
        {
            await file.Stream.WriteAsync(BitConverter.GetBytes(next)).ConfigureAwait(false);
            await file.Stream.WriteAsync(payload).ConfigureAwait(false);
            file.Commit();
        }
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var (path, stripe) = Locate(stateName, grainId);
        await using var _ = await LockAsync(stripe).ConfigureAwait(false);
        long current = CurrentVersion(path);
        CheckETag(current, grainState.ETag, stateName, grainId, "clear");
        if (current > 0) File.Delete(path);
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static long CurrentVersion(string path)
    {
        if (!File.Exists(path)) return 0;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> version = stackalloc byte[8];
        if (file.ReadAtLeast(version, 8, throwOnEndOfStream: false) < 8) throw new InvalidDataException($"{path}: a grain state file is shorter than its version.");
        return BitConverter.ToInt64(version);
    }

    private static void CheckETag(long current, string? etag, string stateName, GrainId grainId, string operation)
    {
        string? expected = current == 0 ? null : current.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!string.Equals(expected, string.IsNullOrEmpty(etag) ? null : etag, StringComparison.Ordinal))
            throw new InconsistentStateException($"Version conflict ({operation}) of state '{stateName}' of {grainId}: stored ETag {expected ?? "(none)"}, given {etag ?? "(none)"}.", expected ?? "", etag ?? "");
    }

    private (string Path, int Stripe) Locate(string stateName, GrainId grainId)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        string id = grainId.ToString();
        ulong hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes($"{stateName}\n{id}"));
        string name = FolderRecordEngineProvider.EncodeName($"{id}#{stateName}");
        // Long names are cut and made unique by the hash (file names are limited to 255 bytes).
        if (name.Length > 200) name = $"{name[..160]}-{hash:x16}";
        return (Path.Combine(_root, (hash % 256).ToString("x2", System.Globalization.CultureInfo.InvariantCulture), name), (int)(hash % LockStripes));
    }

    // A lock per stripe: a semaphore within the process, and an exclusively opened lock file across processes.
    private async Task<StripeLock> LockAsync(int stripe)
    {
        await _localLocks[stripe].WaitAsync().ConfigureAwait(false);
        string path = Path.Combine(_root, ".locks", stripe.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new StripeLock(_localLocks[stripe], new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (attempt < 10_000)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }
            catch
            {
                _localLocks[stripe].Release();
                throw;
            }
        }
    }

    private sealed class StripeLock(SemaphoreSlim local, FileStream file) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            file.Dispose();
            local.Release();
            return ValueTask.CompletedTask;
        }
    }
}
