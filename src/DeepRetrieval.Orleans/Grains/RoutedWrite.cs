namespace DeepRetrieval.Orleans.Grains;

/// <summary>The log positions a routed write was acknowledged at, per shard it touched.</summary>
[GenerateSerializer, Immutable]
public sealed class RoutedWrite
{
    /// <summary>The shards written.</summary>
    [Id(0)]
    public int[] Shards { get; set; } = [];

    /// <summary>The log entry of the write on each (0 when the shard had nothing to change).</summary>
    [Id(1)]
    public long[] Sequences { get; set; } = [];
}
