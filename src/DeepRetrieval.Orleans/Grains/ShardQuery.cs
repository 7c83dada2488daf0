namespace DeepRetrieval.Orleans.Grains;

/// <summary>A filtered, ordered read sent to one member of a shard's replica set.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardQuery
{
    /// <summary>The filter (<c>FilterCodec</c>), or null for every record.</summary>
    [Id(0)]
    public byte[]? Filter { get; set; }

    /// <summary>Sort columns (storage names); the key is always the last, as the tie-breaker.</summary>
    [Id(1)]
    public string[] OrderBy { get; set; } = [];

    /// <summary>Ascending flags, one per sort column.</summary>
    [Id(2)]
    public bool[] Ascending { get; set; } = [];

    /// <summary>Rows to return at most (the caller's top + skip).</summary>
    [Id(3)]
    public int Count { get; set; }

    /// <summary>Return the vectors too.</summary>
    [Id(4)]
    public bool IncludeVectors { get; set; }

    /// <summary>The log position the member must have applied before it answers (0: any).</summary>
    [Id(5)]
    public long MinSequence { get; set; }

    /// <summary>The shard-map version the caller routed with.</summary>
    [Id(6)]
    public long MapVersion { get; set; }
}
