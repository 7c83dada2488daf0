namespace DeepRetrieval.Orleans.Grains;

/// <summary>How fresh a read must be: the consistency level and, per shard, the last log entry the caller saw acknowledged.</summary>
[GenerateSerializer, Immutable]
public sealed class ReadSession
{
    /// <summary>The consistency level.</summary>
    [Id(0)]
    public ReadConsistency Consistency { get; set; }

    /// <summary>Shards with a known acknowledged position.</summary>
    [Id(1)]
    public int[] Shards { get; set; } = [];

    /// <summary>That position, one per shard.</summary>
    [Id(2)]
    public long[] Sequences { get; set; } = [];

    /// <summary>Answer from the other shards when every member of a shard's replica set fails (and report it), instead of failing.</summary>
    [Id(3)]
    public bool AllowPartialResults { get; set; }

    /// <summary>The position a member of <paramref name="shard"/> must have applied (0 when none is known, or for eventual reads).</summary>
    /// <param name="shard">A shard id.</param>
    public long MinSequenceOf(int shard)
    {
        if (Consistency == ReadConsistency.Eventual) return 0;
        int i = Array.IndexOf(Shards, shard);
        return i < 0 ? 0 : Sequences[i];
    }
}
