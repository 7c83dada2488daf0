namespace DeepRetrieval.Orleans.Grains;

/// <summary>The state of one member of a shard's replica set (for monitoring and tests).</summary>
[GenerateSerializer, Immutable]
public sealed class ShardStatus
{
    /// <summary>The member's grain key.</summary>
    [Id(0)]
    public string Key { get; set; } = "";

    /// <summary>True for the primary (it takes the writes).</summary>
    [Id(1)]
    public bool IsPrimary { get; set; }

    /// <summary>The silo hosting it.</summary>
    [Id(2)]
    public string Silo { get; set; } = "";

    /// <summary>Records it holds.</summary>
    [Id(3)]
    public int Count { get; set; }

    /// <summary>The last log entry it applied.</summary>
    [Id(4)]
    public long Sequence { get; set; }

    /// <summary>Its snapshot generation.</summary>
    [Id(5)]
    public long Generation { get; set; }

    /// <summary>The first log entry after its snapshot.</summary>
    [Id(6)]
    public long LogStart { get; set; }
}
