namespace DeepRetrieval.Orleans.Grains;

/// <summary>Rows from one shard member (each <c>RecordCodec.EncodeRow</c> bytes), with the log position it had applied.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardRows
{
    /// <summary>The rows.</summary>
    [Id(0)]
    public byte[][] Rows { get; set; } = [];

    /// <summary>Scores, one per row, for search results; empty for plain reads.</summary>
    [Id(1)]
    public double[] Scores { get; set; } = [];

    /// <summary>The last log entry the member had applied when it answered.</summary>
    [Id(2)]
    public long Sequence { get; set; }
}
