using Microsoft.Extensions.Logging;

namespace DeepRetrieval.VectorData.Storage;

/// <summary>Settings of a <see cref="RecordTable"/>.</summary>
public sealed class RecordTableOptions
{
    /// <summary>The default <see cref="TrainingThreshold"/>.</summary>
    public const int DefaultTrainingThreshold = 10_000;

    /// <summary>
    /// Vectors a column collects (searched exactly) before an index that learns from data (IVF, PQ, SQ …) is trained on all of
    /// them, or a <c>Dynamic</c> column turns into HNSW. Default 10,000.
    /// </summary>
    public int TrainingThreshold { get; init; } = DefaultTrainingThreshold;

    /// <summary>Search-time parameters set on every target index (<c>ef</c> for HNSW, <c>nprobe</c> for IVF), overriding the defaults.</summary>
    public IReadOnlyDictionary<string, double>? SearchParameters { get; init; }

    /// <summary>Where promotions and their failures are logged.</summary>
    public ILogger? Logger { get; init; }
}
