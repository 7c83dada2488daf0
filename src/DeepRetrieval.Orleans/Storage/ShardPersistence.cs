using System.Globalization;
using Orleans.Storage;

namespace DeepRetrieval.Orleans.Storage;

/// <summary>
/// One shard's records in grain storage: its <see cref="ShardManifest"/>, its append log (one record per write batch, named by
/// sequence number, inserted only if absent) and its snapshot parts (records named by generation, part and chunk).
/// </summary>
/// <remarks>
/// Record names: <c>manifest</c>; <c>log/&lt;seq&gt;</c>; <c>snap/&lt;generation&gt;/rows/&lt;chunk&gt;</c> and
/// <c>snap/&lt;generation&gt;/index&lt;column&gt;/&lt;chunk&gt;</c>. All belong to the storage owner
/// <c>deepretrieval.shard/&lt;epoch&gt;/&lt;shard&gt;</c>.
/// </remarks>
internal sealed class ShardPersistence
{
    public const string ManifestName = "manifest";
    private const string OwnerType = "deepretrieval.shard";
    private readonly GrainRecordStore _records;

    public ShardPersistence(IGrainStorage storage, string shardKey)
    {
        _records = new GrainRecordStore(storage, GrainId.Create(OwnerType, shardKey));
    }

    public Task<(ShardManifest? Value, string? ETag, bool Exists)> ReadManifestAsync() => _records.ReadAsync<ShardManifest>(ManifestName);

    public Task<string?> WriteManifestAsync(ShardManifest manifest, string? etag) => _records.WriteAsync(ManifestName, manifest, etag);

    public Task DeleteManifestAsync(string? etag) => _records.DeleteAsync<ShardManifest>(ManifestName, etag);

    /// <summary>Appends log entry <paramref name="sequence"/>; throws <see cref="InconsistentStateException"/> when it exists.</summary>
    public Task<string?> AppendAsync(long sequence, byte[] payload) => _records.WriteAsync(LogName(sequence), new StoredBytes { Data = payload }, etag: null);

    /// <summary>Reads log entry <paramref name="sequence"/>, or null when there is none.</summary>
    public async Task<(byte[] Payload, string? ETag)?> ReadEntryAsync(long sequence)
    {
        var (value, etag, exists) = await _records.ReadAsync<StoredBytes>(LogName(sequence)).ConfigureAwait(false);
        return exists ? (value!.Data, etag) : null;
    }

    public Task DeleteEntryAsync(long sequence, string? etag) => _records.DeleteAsync<StoredBytes>(LogName(sequence), etag);

    public Task DeleteEntryIfExistsAsync(long sequence) => _records.DeleteIfExistsAsync<StoredBytes>(LogName(sequence));

    /// <summary>Writes the chunks of a snapshot part, replacing leftovers of an earlier, uncommitted attempt.</summary>
    public async Task WriteChunksAsync(long generation, string part, IReadOnlyList<byte[]> chunks)
    {
        for (int i = 0; i < chunks.Count; i++)
        {
            string name = ChunkName(generation, part, i);
            var (_, etag, exists) = await _records.ReadAsync<StoredBytes>(name).ConfigureAwait(false);
            await _records.WriteAsync(name, new StoredBytes { Data = chunks[i] }, exists ? etag : null).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the chunks of a snapshot part, or null when one is missing (a newer checkpoint deleted it).</summary>
    public async Task<List<byte[]>?> ReadChunksAsync(long generation, string part, int count)
    {
        var chunks = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            var (value, _, exists) = await _records.ReadAsync<StoredBytes>(ChunkName(generation, part, i)).ConfigureAwait(false);
            if (!exists) return null;
            chunks.Add(value!.Data);
        }
        return chunks;
    }

    public async Task DeleteChunksAsync(long generation, string part, int count)
    {
        for (int i = 0; i < count; i++) await _records.DeleteIfExistsAsync<StoredBytes>(ChunkName(generation, part, i)).ConfigureAwait(false);
    }

    public static string IndexPart(int column) => string.Create(CultureInfo.InvariantCulture, $"index{column}");

    public const string RowsPart = "rows";

    private static string LogName(long sequence) => string.Create(CultureInfo.InvariantCulture, $"log/{sequence}");

    private static string ChunkName(long generation, string part, int chunk) => string.Create(CultureInfo.InvariantCulture, $"snap/{generation}/{part}/{chunk}");
}
