using DeepRetrieval.Indexes;
using DeepRetrieval.Persistence;
using DeepRetrieval.VectorData.Filtering;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>
/// A collection kept in a folder: a <see cref="RecordTable"/> in memory, made durable by an append-only record log and
/// periodic checkpoints.
/// </summary>
/// <remarks>
/// <para>Folder layout: <c>manifest</c> (schema and current checkpoint generation g), <c>snapshot-g</c> (every record),
/// <c>index-g-c.drix</c> (the index of vector column c, a DeepRetrieval index file), <c>log-g</c> (writes since the
/// checkpoint) and <c>LOCK</c>, held exclusively while a process has the collection open.</para>
/// <para>A write validates the whole batch, appends one checksummed log entry, flushes it (see <see cref="DurabilityMode"/>),
/// then applies it in memory; only then does it return. A checkpoint writes snapshot g+1, the index files of g+1 and an empty
/// log g+1, each through a temporary file and a rename, then replaces the manifest (the commit point) and deletes generation g.
/// A crash at any step leaves either generation complete; opening removes the other's leftovers, loads the snapshot and
/// indexes, and replays the log (a torn last entry, from a write that was never acknowledged, is cut off; damage before the
/// tail is rejected).</para>
/// <para>Concurrency: writers are serialised; searches and reads run concurrently with each other and with writers, and see
/// each write entirely or not at all. Training a trained index kind (IVF, PQ …) runs on the writer's thread while searches
/// continue on the exact staging index.</para>
/// </remarks>
public sealed class DurableRecordEngine : IRecordEngine
{
    private const string LockFileName = "LOCK";
    private readonly string _folder;
    private readonly DurableEngineOptions _options;
    private readonly ILogger? _logger;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly RecordTable _table;
    private readonly FileStream _lock;
    private RecordLog _log;
    private long _generation;
    private volatile bool _disposed;
    private volatile string? _fault;

    private DurableRecordEngine(string folder, DurableEngineOptions options, FileStream lockFile, RecordTable table, RecordLog log, long generation)
    {
        _folder = folder;
        _options = options;
        _logger = options.Logger;
        _lock = lockFile;
        _table = table;
        _log = log;
        _generation = generation;
    }

    /// <inheritdoc />
    public RecordSchema Schema => _table.Schema;

    /// <summary>The folder.</summary>
    public string Folder => _folder;

    internal RecordTable Table => _table;

    /// <summary>The number of records.</summary>
    public int Count => _table.Count;

    /// <summary>The current checkpoint generation.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>True once disposed (closed, or its collection deleted).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Creates a new collection folder with an empty generation 0 (the folder must not exist).</summary>
    /// <param name="folder">The folder to create.</param>
    /// <param name="schema">The schema.</param>
    public static void CreateFolder(string folder, RecordSchema schema)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(schema);
        Directory.CreateDirectory(folder);
        RecordLog.Create(Path.Combine(folder, LogName(0)), 0, flushToDisk: true).Dispose();
        ManifestFile.Write(folder, schema, 0);
    }

    /// <summary>True when a folder holds a collection (its manifest exists).</summary>
    /// <param name="folder">The folder.</param>
    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, ManifestFile.FileName));

    /// <summary>Reads the schema of a collection folder.</summary>
    /// <param name="folder">The folder.</param>
    public static RecordSchema ReadSchema(string folder) => ManifestFile.Read(folder).Schema;

    /// <summary>
    /// Opens a collection folder: takes its lock, loads the checkpoint, replays the log and removes leftovers of an
    /// interrupted checkpoint.
    /// </summary>
    /// <param name="folder">The folder.</param>
    /// <param name="expected">The schema the caller expects, or null to take the stored one.</param>
    /// <param name="options">Settings; null for defaults.</param>
    /// <exception cref="InvalidOperationException">Another process has it open, or <paramref name="expected"/> differs from the stored schema.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt (the message names it and what is wrong).</exception>
    public static DurableRecordEngine Open(string folder, RecordSchema? expected, DurableEngineOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new DurableEngineOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.CheckpointLogBytes);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(folder, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (Directory.Exists(folder))
        {
            throw new InvalidOperationException($"The collection folder {folder} is open in another process; a collection folder can be used by one process at a time.", e);
        }
        RecordTable? table = null;
        RecordLog? log = null;
        try
        {
            var (schema, generation) = ManifestFile.Read(folder);
            if (expected is not null && schema.DescribeDifference(expected) is { } difference)
                throw new InvalidOperationException($"The collection in {folder} was created with a different record definition: {difference}.");
            var tableOptions = new RecordTableOptions
            {
                TrainingThreshold = options.Table.TrainingThreshold,
                SearchParameters = options.Table.SearchParameters,
                Logger = options.Table.Logger ?? options.Logger,
            };
            table = new RecordTable(schema, tableOptions);
            RemoveLeftovers(folder, generation, options.Logger);
            if (generation > 0)
            {
                var (nextId, rows) = SnapshotFile.Read(Path.Combine(folder, SnapshotName(generation)), schema, generation);
                table.LoadRows(nextId, rows);
            }
            for (int c = 0; c < schema.Vectors.Count; c++)
            {
                string indexPath = Path.Combine(folder, IndexName(generation, c));
                if (File.Exists(indexPath))
                {
                    table.LoadIndex(c, IndexFile.Load(indexPath));
                }
                else
                {
                    if (generation > 0)
                        options.Logger?.LogWarning("{Folder}: the index file of vector column {Column} is missing; rebuilding it from the stored vectors.", folder, schema.Vectors[c].Name);
                    table.RebuildIndex(c);
                }
            }
            log = RecordLog.Open(Path.Combine(folder, LogName(generation)), generation, options.Durability == DurabilityMode.FlushToDisk, out List<byte[]> entries, out long discarded);
            if (discarded > 0)
                options.Logger?.LogWarning("{Folder}: discarded a torn {Bytes}-byte tail of the record log (a write interrupted before it was acknowledged).", folder, discarded);
            foreach (byte[] entry in entries)
            {
                RecordCodec.DecodeEntry(schema, entry, out UpsertBatch? upsert, out long[]? deleted);
                if (upsert is not null)
                {
                    try
                    {
                        table.PrepareUpsert(upsert.Rows); // validation only: a logged row that no longer fits is corruption
                    }
                    catch (ArgumentException e)
                    {
                        throw new InvalidDataException($"{folder}: a logged record does not fit the collection: {e.Message}", e);
                    }
                    table.Apply(upsert);
                }
                else
                {
                    table.ApplyDelete(deleted!);
                }
            }
            if (entries.Count > 0)
                options.Logger?.LogInformation("{Folder}: replayed {Entries} log entries; {Count} records.", folder, entries.Count, table.Count);
            var engine = new DurableRecordEngine(folder, options, lockFile, table, log, generation);
            if (table.PromoteDueIndexes()) engine.Checkpoint();
            return engine;
        }
        catch
        {
            log?.Dispose();
            table?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Task UpsertAsync(IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) return Task.CompletedTask;
        return WriteAsync(() =>
        {
            UpsertBatch batch = _table.PrepareUpsert(rows);
            Commit(RecordCodec.EncodeUpsert(Schema, batch), () => _table.Apply(batch));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteAsync(IReadOnlyList<object> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) return Task.CompletedTask;
        return WriteAsync(() =>
        {
            long[] ids = _table.PrepareDelete(keys);
            if (ids.Length > 0) Commit(RecordCodec.EncodeDelete(ids), () => _table.ApplyDelete(ids));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecordRow>> GetAsync(IReadOnlyList<object> keys, bool includeVectors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ThrowIfUnusable();
        var rows = new List<RecordRow>(keys.Count);
        foreach (object key in keys)
            if (_table.Get(key) is { } row) rows.Add(includeVectors ? row : row.WithoutVectors());
        return Task.FromResult<IReadOnlyList<RecordRow>>(rows);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecordRow>> QueryAsync(FilterNode? filter, IReadOnlyList<OrderByColumn> orderBy, int skip, int top, bool includeVectors, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        Func<RecordRow, bool>? predicate = filter is null ? null : FilterCompiler.Compile(filter, Schema);
        List<RecordRow> rows = _table.Query(predicate, orderBy, skip, top);
        return Task.FromResult<IReadOnlyList<RecordRow>>(includeVectors ? rows : rows.Select(r => r.WithoutVectors()).ToList());
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ScoredRow>> SearchAsync(int vectorColumn, ReadOnlyMemory<float> query, int top, int skip, FilterNode? filter,
        double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        Func<RecordRow, bool>? predicate = filter is null ? null : FilterCompiler.Compile(filter, Schema);
        List<ScoredRow> hits = _table.Search(vectorColumn, query.Span, top, skip, predicate, scoreThreshold);
        return Task.FromResult(Strip(hits, includeVectors));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ScoredRow>> HybridSearchAsync(int vectorColumn, ReadOnlyMemory<float> query, IReadOnlyList<string> keywords, int textColumn,
        int top, int skip, FilterNode? filter, double? scoreThreshold, bool includeVectors, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        Func<RecordRow, bool>? predicate = filter is null ? null : FilterCompiler.Compile(filter, Schema);
        List<ScoredRow> hits = _table.HybridSearch(vectorColumn, query.Span, keywords, textColumn, top, skip, predicate, scoreThreshold);
        return Task.FromResult(Strip(hits, includeVectors));
    }

    /// <summary>Writes a checkpoint now (snapshot, index files, new log), waiting for the current writer.</summary>
    /// <param name="cancellationToken">Honoured until the checkpoint starts.</param>
    public Task CheckpointAsync(CancellationToken cancellationToken = default) => WriteAsync(Checkpoint, cancellationToken);

    /// <summary>Closes the collection: a final checkpoint (when enabled and the log holds writes), then releases the folder.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _writer.Wait();
        try
        {
            if (_disposed) return;
            if (_options.CheckpointOnClose && _fault is null && _log.HasEntries)
            {
                try
                {
                    Checkpoint();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The log still holds every write; the next open replays it.
                    _logger?.LogWarning(e, "{Folder}: the checkpoint on close failed; the next open will replay the log.", _folder);
                }
            }
            _disposed = true;
            _log.Dispose();
            _table.Dispose();
            _lock.Dispose();
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Closes without a checkpoint (the collection is being deleted).</summary>
    internal void Abandon()
    {
        _writer.Wait();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _log.Dispose();
            _table.Dispose();
            _lock.Dispose();
        }
        finally
        {
            _writer.Release();
        }
    }

    // Runs a write (or checkpoint) as the only writer; cancellation is honoured while waiting for the turn, not after.
    private async Task WriteAsync(Action write, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfUnusable();
            write();
        }
        finally
        {
            _writer.Release();
        }
    }

    private static IReadOnlyList<ScoredRow> Strip(List<ScoredRow> hits, bool includeVectors) =>
        includeVectors ? hits : hits.Select(h => h with { Row = h.Row.WithoutVectors() }).ToList();

    // Caller holds the writer lock.
    private void Commit(byte[] entry, Action apply)
    {
        _log.Append(entry);
        try
        {
            apply();
        }
        catch (Exception e)
        {
            // The entry is durable but memory no longer matches it; reopening replays the log.
            _fault = $"applying a logged write failed ({e.Message}); dispose the collection and open it again to recover from its log";
            throw;
        }
        // The write is durable and applied: from here on it is acknowledged, and maintenance failures are only logged.
        try
        {
            if (_table.PromoteDueIndexes() || _log.Length >= _options.CheckpointLogBytes) Checkpoint();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            _logger?.LogWarning(e, "{Folder}: index training or checkpoint after a write failed; the log keeps the writes and the next write retries.", _folder);
        }
    }

    // Caller holds the writer lock.
    private void Checkpoint()
    {
        long current = Generation, next = current + 1;
        var written = new List<string>();
        RecordLog? newLog = null;
        try
        {
            string snapshot = Path.Combine(_folder, SnapshotName(next));
            SnapshotFile.Write(snapshot, _table, next);
            written.Add(snapshot);
            for (int c = 0; c < Schema.Vectors.Count; c++)
            {
                string indexPath = Path.Combine(_folder, IndexName(next, c));
                IndexFile.Save(_table.GetIndex(c), indexPath);
                written.Add(indexPath);
            }
            string logPath = Path.Combine(_folder, LogName(next));
            newLog = RecordLog.Create(logPath, next, _options.Durability == DurabilityMode.FlushToDisk);
            written.Add(logPath);
            ManifestFile.Write(_folder, Schema, next);
        }
        catch
        {
            newLog?.Dispose();
            foreach (string path in written) AtomicWrite.TryDelete(path);
            throw;
        }
        RecordLog old = _log;
        _log = newLog;
        Interlocked.Exchange(ref _generation, next);
        old.Dispose();
        RemoveLeftovers(_folder, next, null);
        _logger?.LogInformation("{Folder}: checkpoint {Generation} written ({Count} records).", _folder, next, _table.Count);
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is { } fault) throw new InvalidOperationException($"The collection in {_folder} is unusable: {fault}.");
    }

    private static string SnapshotName(long generation) => $"snapshot-{generation}";

    private static string LogName(long generation) => $"log-{generation}";

    private static string IndexName(long generation, int column) => $"index-{generation}-{column}.drix";

    // Files of other generations (an interrupted checkpoint's new files, or a finished one's old files) and temporary files.
    private static void RemoveLeftovers(string folder, long generation, ILogger? logger)
    {
        foreach (string path in Directory.EnumerateFiles(folder))
        {
            string name = Path.GetFileName(path);
            bool stale = name.EndsWith(AtomicWrite.TempSuffix, StringComparison.Ordinal)
                || IsGenerationFile(name, "snapshot-", out long g) && g != generation
                || IsGenerationFile(name, "log-", out g) && g != generation
                || name.StartsWith("index-", StringComparison.Ordinal) && IsGenerationFile(name[..name.LastIndexOf('-')], "index-", out g) && g != generation;
            if (!stale) continue;
            AtomicWrite.TryDelete(path);
            logger?.LogInformation("{Folder}: removed {File}, left over from an interrupted checkpoint.", folder, name);
        }
    }

    private static bool IsGenerationFile(string name, string prefix, out long generation)
    {
        generation = -1;
        return name.StartsWith(prefix, StringComparison.Ordinal) && long.TryParse(name.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, null, out generation);
    }
}
