namespace DeepRetrieval.Orleans.Grains;

/// <summary>A vector (or hybrid, with keywords) search sent to one member of a shard's replica set.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardSearch
{
    /// <summary>The vector column.</summary>
    [Id(0)]
    public int Column { get; set; }

    /// <summary>The query vector.</summary>
    [Id(1)]
    public float[] Query { get; set; } = [];

    /// <summary>Hits to return at most (the caller's top + skip: shards never skip).</summary>
    [Id(2)]
    public int Count { get; set; }

    /// <summary>The filter (<c>FilterCodec</c>), or null.</summary>
    [Id(3)]
    public byte[]? Filter { get; set; }

    /// <summary>The score cut-off, or null.</summary>
    [Id(4)]
    public double? ScoreThreshold { get; set; }

    /// <summary>Return the vectors too.</summary>
    [Id(5)]
    public bool IncludeVectors { get; set; }

    /// <summary>The log position the member must have applied before it answers (0: any).</summary>
    [Id(6)]
    public long MinSequence { get; set; }

    /// <summary>Keywords of a hybrid search, or null for a vector search.</summary>
    [Id(7)]
    public string[]? Keywords { get; set; }

    /// <summary>The full-text data column of a hybrid search.</summary>
    [Id(8)]
    public int TextColumn { get; set; }

    /// <summary>The shard-map version the caller routed with.</summary>
    [Id(9)]
    public long MapVersion { get; set; }
}
