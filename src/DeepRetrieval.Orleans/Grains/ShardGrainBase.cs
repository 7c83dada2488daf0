using DeepRetrieval.Orleans.Serialization;
using DeepRetrieval.Orleans.Storage;
using DeepRetrieval.VectorData.Filtering;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// What the primary and the replicas of a shard share: a <see cref="RecordTable"/> loaded from the shard's snapshot and log
/// in grain storage, and the reads served from it (run on the thread pool, concurrently with each other and with a writer).
/// </summary>
public abstract class ShardGrainBase : Grain, IVectorShardReader
{
    private readonly RecordTableOptions _tableOptions;

    /// <summary>Creates the grain.</summary>
    /// <param name="options">Silo settings.</param>
    /// <param name="logger">Where loading, checkpoints and failures are logged.</param>
    private protected ShardGrainBase(IOptions<DeepRetrievalShardOptions> options, ILogger logger)
    {
        Options = options.Value;
        Logger = logger;
        _tableOptions = new RecordTableOptions
        {
            TrainingThreshold = Options.TrainingThreshold,
            SearchParameters = Options.SearchParameters,
            Logger = logger,
        };
    }

    private protected DeepRetrievalShardOptions Options { get; }

    private protected ILogger Logger { get; }

    private protected ShardPersistence Store { get; private set; } = null!;

    /// <summary>The grain storage provider holding the shard.</summary>
    private protected IGrainStorage GrainStorage { get; private set; } = null!;

    /// <summary>The grain key (<c>&lt;epoch&gt;/&lt;shard&gt;</c> or <c>&lt;epoch&gt;/&lt;shard&gt;/&lt;replica&gt;</c>).</summary>
    private protected string GrainKey { get; private set; } = "";

    /// <summary>The shard's storage key (<c>&lt;epoch&gt;/&lt;shard&gt;</c>).</summary>
    private protected string ShardKey { get; private set; } = "";

    /// <summary>The records, or null while the shard is missing. Replaced (never changed in place) when a replica reloads.</summary>
    private protected RecordTable? Table { get; set; }

    /// <summary>The manifest the table was loaded from (the primary keeps it current).</summary>
    private protected ShardManifest? Manifest { get; set; }

    /// <summary>The manifest's ETag.</summary>
    private protected string? ManifestETag { get; set; }

    /// <summary>The last log entry applied to <see cref="Table"/>.</summary>
    private protected long Applied { get; set; }

    /// <summary>The key-hash range the shard owns and the map version at which it last changed.</summary>
    private protected ShardRange Range { get; set; }

    /// <summary>True when storage holds no manifest: the collection was deleted or never created.</summary>
    private protected bool Missing { get; set; }

    /// <summary>True for the primary.</summary>
    private protected abstract bool IsPrimary { get; }

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        GrainKey = this.GetPrimaryKeyString();
        ShardKey = CollectionDescriptor.ShardKeyOf(GrainKey);
        IGrainStorage storage = ServiceProvider.GetKeyedService<IGrainStorage>(Options.StorageProviderName)
            ?? throw new InvalidOperationException(
                $"No Orleans grain storage named '{Options.StorageProviderName}' is registered on this silo; register one under that name (AddAdoNetGrainStorage, AddMemoryGrainStorage, AddDeepRetrievalFileGrainStorage …) or set DeepRetrievalShardOptions.StorageProviderName.");
        GrainStorage = storage;
        Store = new ShardPersistence(storage, ShardKey);
        await LoadAsync().ConfigureAwait(true);
        await base.OnActivateAsync(cancellationToken).ConfigureAwait(true);
    }

    /// <inheritdoc />
    public async Task<ShardRows> GetAsync(object[] keys, bool includeVectors, long minSequence, long mapVersion)
    {
        ArgumentNullException.ThrowIfNull(keys);
        RecordTable table = await ReadyAsync(minSequence, mapVersion).ConfigureAwait(true);
        var rows = new List<byte[]>(keys.Length);
        foreach (object key in keys)
            if (key is not null && table.Get(key) is { } row) rows.Add(Encode(table.Schema, row, includeVectors));
        return new ShardRows { Rows = rows.ToArray(), Sequence = Applied };
    }

    /// <inheritdoc />
    public async Task<ShardRows> QueryAsync(ShardQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        RecordTable table = await ReadyAsync(query.MinSequence, query.MapVersion).ConfigureAwait(true);
        long sequence = Applied;
        if (query.OrderBy.Length != query.Ascending.Length) throw new ArgumentException("One ascending flag is needed per sort column.", nameof(query));
        var orderBy = query.OrderBy.Select((c, i) => new OrderByColumn(c, query.Ascending[i])).ToList();
        Func<RecordRow, bool>? predicate = Compile(query.Filter, table.Schema);
        List<RecordRow> rows = await Task.Run(() => table.Query(predicate, orderBy, 0, query.Count)).ConfigureAwait(true);
        return new ShardRows { Rows = rows.Select(r => Encode(table.Schema, r, query.IncludeVectors)).ToArray(), Sequence = sequence };
    }

    /// <inheritdoc />
    public async Task<ShardRows> SearchAsync(ShardSearch search)
    {
        ArgumentNullException.ThrowIfNull(search);
        RecordTable table = await ReadyAsync(search.MinSequence, search.MapVersion).ConfigureAwait(true);
        long sequence = Applied;
        if ((uint)search.Column >= (uint)table.Schema.Vectors.Count)
            throw new ArgumentOutOfRangeException(nameof(search), search.Column, $"The collection has {table.Schema.Vectors.Count} vector columns.");
        Func<RecordRow, bool>? predicate = Compile(search.Filter, table.Schema);
        List<ScoredRow> hits = await Task.Run(() => search.Keywords is null
            ? table.Search(search.Column, search.Query, search.Count, 0, predicate, search.ScoreThreshold)
            : table.HybridSearch(search.Column, search.Query, search.Keywords, search.TextColumn, search.Count, 0, predicate, search.ScoreThreshold)).ConfigureAwait(true);
        return new ShardRows
        {
            Rows = hits.Select(h => Encode(table.Schema, h.Row, search.IncludeVectors)).ToArray(),
            Scores = hits.Select(h => h.Score).ToArray(),
            Sequence = sequence,
        };
    }

    /// <inheritdoc />
    public Task<ShardStatus> GetStatusAsync() => Task.FromResult(new ShardStatus
    {
        Key = GrainKey,
        IsPrimary = IsPrimary,
        Silo = RuntimeIdentity,
        Count = Table?.Count ?? 0,
        Sequence = Applied,
        Generation = Manifest?.Generation ?? 0,
        LogStart = Manifest?.LogStart ?? 0,
    });

    /// <summary>Makes sure the member has applied <paramref name="minSequence"/> (a replica catches up; the primary always has).</summary>
    private protected abstract Task EnsureAppliedAsync(long minSequence);

    /// <summary>Called once a load finished, with the manifest it started from.</summary>
    private protected virtual void OnLoaded(ShardManifest manifest)
    {
    }

    /// <summary>Called for each log entry read while loading (the primary keeps their ETags to delete them after a checkpoint).</summary>
    private protected virtual void OnEntryLoaded(long sequence, string? etag, int bytes)
    {
    }

    /// <summary>
    /// Loads the shard from storage into a new table: the manifest, the snapshot it names, then every log entry after it.
    /// Sets <see cref="Missing"/> when storage holds no manifest.
    /// </summary>
    private protected async Task LoadAsync()
    {
        for (int attempt = 0; ; attempt++)
        {
            var (manifest, etag, exists) = await Store.ReadManifestAsync().ConfigureAwait(true);
            if (!exists)
            {
                Missing = true;
                Table = null;
                Manifest = null;
                return;
            }
            RecordSchema schema = RecordCodec.DecodeSchema(manifest!.Schema);
            var range = new ShardRange(manifest.MapVersion, manifest.RangeStart, manifest.RangeEnd);
            var table = new RecordTable(schema, _tableOptions);
            if (manifest.Generation > 0)
            {
                List<byte[]>? rows = await Store.ReadChunksAsync(manifest.Generation, ShardPersistence.RowsPart, manifest.RowChunks).ConfigureAwait(true);
                var indexes = new IReadOnlyList<byte[]>?[schema.Vectors.Count];
                bool complete = rows is not null;
                for (int c = 0; c < indexes.Length && complete; c++)
                {
                    if (c >= manifest.IndexChunks.Length || manifest.IndexChunks[c] == 0) continue;
                    indexes[c] = await Store.ReadChunksAsync(manifest.Generation, ShardPersistence.IndexPart(c), manifest.IndexChunks[c]).ConfigureAwait(true);
                    complete = indexes[c] is not null;
                }
                if (!complete)
                {
                    // A newer checkpoint committed and deleted this one while it was read: start again from the new manifest.
                    if (attempt < 3) continue;
                    throw new InvalidDataException($"Shard {ShardKey}: snapshot generation {manifest.Generation} is incomplete in storage.");
                }
                ShardSnapshot.Load(table, rows!, indexes, $"Shard {ShardKey} snapshot {manifest.Generation}");
            }
            long sequence = manifest.LogStart;
            while (await Store.ReadEntryAsync(sequence).ConfigureAwait(true) is { } entry)
            {
                range = ApplyEntry(table, entry.Payload, sequence, range);
                OnEntryLoaded(sequence, entry.ETag, entry.Payload.Length);
                sequence++;
            }
            table.PromoteDueIndexes();
            Table = table;
            Range = range;
            Manifest = manifest;
            ManifestETag = etag;
            Applied = sequence - 1;
            Missing = false;
            OnLoaded(manifest);
            Logger.LogInformation("Shard {Key}: loaded generation {Generation} and log entries {From}..{To}; {Count} records.",
                GrainKey, manifest.Generation, manifest.LogStart, Applied, table.Count);
            return;
        }
    }

    /// <summary>
    /// Applies one log entry to a table (validating logged rows, which come from storage); a map change returns the shard's
    /// new range, any other entry <paramref name="range"/> unchanged.
    /// </summary>
    private protected ShardRange ApplyEntry(RecordTable table, byte[] payload, long sequence, ShardRange range)
    {
        if (MapChangeEntry.TryDecode(payload, out long mapVersion, out ulong start, out ulong end)) return new ShardRange(mapVersion, start, end);
        RecordCodec.DecodeEntry(table.Schema, payload, out UpsertBatch? upsert, out long[]? deleted);
        if (upsert is not null)
        {
            try
            {
                table.PrepareUpsert(upsert.Rows);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"Shard {ShardKey}: log entry {sequence} holds a record that does not fit the collection: {e.Message}", e);
            }
            table.Apply(upsert);
        }
        else
        {
            table.ApplyDelete(deleted!);
        }
        return range;
    }

    /// <summary>
    /// The table, once the member exists and has applied <paramref name="minSequence"/>, for a request routed with map
    /// <paramref name="mapVersion"/>.
    /// </summary>
    private protected async Task<RecordTable> ReadyAsync(long minSequence, long mapVersion)
    {
        await EnsureAppliedAsync(minSequence).ConfigureAwait(true);
        RecordTable table = Ready();
        CheckMapVersion(mapVersion);
        return table;
    }

    /// <summary>Rejects a request routed with a map older than the shard's (it was split since).</summary>
    private protected void CheckMapVersion(long mapVersion)
    {
        if (mapVersion < Range.MapVersion)
            throw new ShardMapChangedException($"Shard {ShardKey} changed its range at shard-map version {Range.MapVersion}; the request was routed with version {mapVersion}.");
    }

    /// <summary>The table; throws <see cref="CollectionNotFoundException"/> when the shard is missing.</summary>
    private protected RecordTable Ready() => Table ?? throw new CollectionNotFoundException(
        $"Shard {ShardKey}: the collection does not exist (it was deleted, or never created).");

    private static Func<RecordRow, bool>? Compile(byte[]? filter, RecordSchema schema) =>
        filter is null ? null : FilterCompiler.Compile(FilterCodec.Decode(filter), schema);

    private static byte[] Encode(RecordSchema schema, RecordRow row, bool includeVectors) =>
        RecordCodec.EncodeRow(schema, 0, includeVectors ? row : row.WithoutVectors());
}
