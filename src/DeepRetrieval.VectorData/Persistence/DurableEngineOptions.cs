using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.VectorData.Persistence;

/// <summary>Settings of a collection kept in a folder.</summary>
public sealed class DurableEngineOptions
{
    /// <summary>The default <see cref="CheckpointLogBytes"/>: 64 MiB.</summary>
    public const long DefaultCheckpointLogBytes = 64L << 20;

    /// <summary>How far each write is flushed before it is acknowledged.</summary>
    public DurabilityMode Durability { get; init; } = DurabilityMode.FlushToDisk;

    /// <summary>
    /// When the record log grows past this many bytes, the writer that crossed it writes a checkpoint (snapshot and index
    /// files) and starts a new log, so reopening replays at most about this much. Default 64 MiB.
    /// </summary>
    public long CheckpointLogBytes { get; init; } = DefaultCheckpointLogBytes;

    /// <summary>Write a checkpoint when the collection is closed cleanly, so the next open replays nothing. Default true.</summary>
    public bool CheckpointOnClose { get; init; } = true;

    /// <summary>Training threshold, search parameters and logger of the in-memory table.</summary>
    public RecordTableOptions Table { get; init; } = new();

    /// <summary>Where recovery, checkpoints and index training are logged.</summary>
    public ILogger? Logger { get; init; }
}
