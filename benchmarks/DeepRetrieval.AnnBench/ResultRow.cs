using System.Text.Json.Serialization;

namespace DeepRetrieval.AnnBench;

/// <summary>One measured configuration: an index description with one combination of search parameters.</summary>
internal sealed record ResultRow
{
    /// <summary>The index description as given to <c>--index</c> (or a baseline's name).</summary>
    [JsonPropertyName("index")]
    public required string Index { get; init; }

    /// <summary>Build-time settings: the index kind and metric.</summary>
    [JsonPropertyName("build_params")]
    public required IReadOnlyDictionary<string, string> BuildParams { get; init; }

    /// <summary>Search-time parameters set through <c>SetSearchParameter</c>; empty for the defaults.</summary>
    [JsonPropertyName("search_params")]
    public required IReadOnlyDictionary<string, double> SearchParams { get; init; }

    /// <summary>The filter of a filtered run (e.g. <c>random 1% (bitmap)</c>), or null.</summary>
    [JsonPropertyName("filter")]
    public string? Filter { get; init; }

    [JsonPropertyName("build_seconds")]
    public required double BuildSeconds { get; init; }

    /// <summary>Neighbour-overlap recall@k against the exact ground truth.</summary>
    [JsonPropertyName("recall")]
    public required double Recall { get; init; }

    /// <summary>Queries per second, one query per call; null when not measured (batch-only baselines).</summary>
    [JsonPropertyName("qps")]
    public required double? Qps { get; init; }

    /// <summary>Queries per second, all queries in one call.</summary>
    [JsonPropertyName("batch_qps")]
    public required double BatchQps { get; init; }

    [JsonPropertyName("memory_bytes")]
    public required long MemoryBytes { get; init; }

    [JsonPropertyName("threads")]
    public required int Threads { get; init; }

    [JsonPropertyName("k")]
    public required int K { get; init; }

    [JsonPropertyName("queries")]
    public required int Queries { get; init; }

    /// <summary>The search parameters as <c>ef=10,nprobe=4</c>, for tables and legends.</summary>
    [JsonIgnore]
    public string SearchParamsText => string.Join(",", SearchParams.Select(p => FormattableString.Invariant($"{p.Key}={p.Value:R}")));
}
