using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;
using Microsoft.Extensions.Logging;

namespace DeepRetrieval.VectorData;

/// <summary>How collections are kept on disk and indexed. The first handle that opens a collection in a process sets them.</summary>
public sealed class DeepRetrievalStorageOptions
{
    /// <summary>How far each write is flushed before it is acknowledged. Default <see cref="DurabilityMode.FlushToDisk"/>.</summary>
    public DurabilityMode Durability { get; set; } = DurabilityMode.FlushToDisk;

    /// <summary>Record-log size in bytes that triggers a checkpoint (snapshot and index files). Default 64 MiB.</summary>
    public long CheckpointLogBytes { get; set; } = DurableEngineOptions.DefaultCheckpointLogBytes;

    /// <summary>
    /// Vectors a column collects (searched exactly) before a trained index kind (IvfFlat, QuantizedFlat, a PQ or IVF description)
    /// is trained on them, or a Dynamic one becomes HNSW. Default 10,000.
    /// </summary>
    public int TrainingThreshold { get; set; } = RecordTableOptions.DefaultTrainingThreshold;

    /// <summary>Search-time index parameters (<c>ef</c> for HNSW, <c>nprobe</c> for IVF) overriding the defaults; null for defaults.</summary>
    public IReadOnlyDictionary<string, double>? SearchParameters { get; set; }

    /// <summary>Where recovery, checkpoints and index training are logged; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal DeepRetrievalStorageOptions Clone() => (DeepRetrievalStorageOptions)MemberwiseClone();

    internal DurableEngineOptions ToEngineOptions()
    {
        ILogger? logger = LoggerFactory?.CreateLogger("DeepRetrieval.VectorData");
        return new DurableEngineOptions
        {
            Durability = Durability,
            CheckpointLogBytes = CheckpointLogBytes,
            Logger = logger,
            Table = new RecordTableOptions { TrainingThreshold = TrainingThreshold, SearchParameters = SearchParameters, Logger = logger },
        };
    }
}
