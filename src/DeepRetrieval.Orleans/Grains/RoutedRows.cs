namespace DeepRetrieval.Orleans.Grains;

/// <summary>A router's merged answer: rows (and scores, for searches) and the shards that did not answer, if partial results were allowed.</summary>
[GenerateSerializer, Immutable]
public sealed class RoutedRows
{
    /// <summary>The rows (<c>RecordCodec.EncodeRow</c> bytes), best first for searches.</summary>
    [Id(0)]
    public byte[][] Rows { get; set; } = [];

    /// <summary>Scores, one per row, for searches.</summary>
    [Id(1)]
    public double[] Scores { get; set; } = [];

    /// <summary>Shards whose whole replica set failed to answer (empty unless partial results are allowed).</summary>
    [Id(2)]
    public int[] MissingShards { get; set; } = [];
}
