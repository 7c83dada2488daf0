using Orleans.Storage;

namespace DeepRetrieval.Orleans.Storage;

/// <summary>
/// Named records of one owner in an Orleans grain storage provider (ADO.NET, a folder, memory …), each with its ETag: the
/// key-value store that shard logs, snapshots and the catalog are written to. Writes are conditional: inserting a record
/// that exists, or replacing one whose ETag changed, throws <see cref="InconsistentStateException"/>, which is what fences
/// a stale activation off.
/// </summary>
internal sealed class GrainRecordStore
{
    private readonly IGrainStorage _storage;
    private readonly GrainId _owner;

    public GrainRecordStore(IGrainStorage storage, GrainId owner)
    {
        _storage = storage;
        _owner = owner;
    }

    /// <summary>Reads a record; <c>Exists</c> is false when it was never written or was deleted.</summary>
    public async Task<(T? Value, string? ETag, bool Exists)> ReadAsync<T>(string name)
        where T : class
    {
        var state = new GrainState<T>();
        await _storage.ReadStateAsync(name, _owner, state).ConfigureAwait(false);
        bool exists = state.RecordExists && state.State is not null;
        return (exists ? state.State : null, state.ETag, exists);
    }

    /// <summary>Writes a record: inserts it when <paramref name="etag"/> is null, else replaces the version with that ETag.</summary>
    /// <returns>The new ETag.</returns>
    public async Task<string?> WriteAsync<T>(string name, T value, string? etag)
        where T : class
    {
        var state = new GrainState<T>(value, etag);
        await _storage.WriteStateAsync(name, _owner, state).ConfigureAwait(false);
        return state.ETag;
    }

    /// <summary>Deletes a record written with <paramref name="etag"/>.</summary>
    public Task DeleteAsync<T>(string name, string? etag)
        where T : class, new()
    {
        var state = new GrainState<T>(new T(), etag) { RecordExists = true };
        return _storage.ClearStateAsync(name, _owner, state);
    }

    /// <summary>Deletes a record whatever its version (reads its ETag first); nothing happens when it does not exist.</summary>
    public async Task DeleteIfExistsAsync<T>(string name)
        where T : class, new()
    {
        var (_, etag, exists) = await ReadAsync<T>(name).ConfigureAwait(false);
        if (exists) await DeleteAsync<T>(name, etag).ConfigureAwait(false);
    }
}
