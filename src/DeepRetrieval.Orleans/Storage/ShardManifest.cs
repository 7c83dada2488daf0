namespace DeepRetrieval.Orleans.Storage;

/// <summary>
/// The commit record of one shard in grain storage: which collection incarnation it belongs to, its schema, and which
/// checkpoint (snapshot generation) and log position a reader starts from. Replacing it (ETag-checked) is a checkpoint's
/// commit point.
/// </summary>
[GenerateSerializer]
public sealed class ShardManifest
{
    /// <summary>The collection incarnation (a new one each time a collection of that name is created).</summary>
    [Id(0)]
    public Guid Epoch { get; set; }

    /// <summary>The collection name (for diagnostics).</summary>
    [Id(1)]
    public string Collection { get; set; } = "";

    /// <summary>The schema, as <c>RecordCodec.EncodeSchema</c> writes it.</summary>
    [Id(2)]
    public byte[] Schema { get; set; } = [];

    /// <summary>Read replicas of this shard besides the primary.</summary>
    [Id(3)]
    public int ReplicaCount { get; set; }

    /// <summary>The snapshot generation: 0 before the first checkpoint (no snapshot), then 1, 2 …</summary>
    [Id(4)]
    public long Generation { get; set; }

    /// <summary>Chunks of the snapshot's rows part.</summary>
    [Id(5)]
    public int RowChunks { get; set; }

    /// <summary>Chunks of each vector column's index part (empty: rebuild the indexes from the rows).</summary>
    [Id(6)]
    public int[] IndexChunks { get; set; } = [];

    /// <summary>The sequence number of the first log entry not in the snapshot (1 before the first checkpoint).</summary>
    [Id(7)]
    public long LogStart { get; set; } = 1;

    /// <summary>The collection's shard-map version at which this shard's range last changed.</summary>
    [Id(8)]
    public long MapVersion { get; set; }

    /// <summary>The first key hash the shard owns.</summary>
    [Id(9)]
    public ulong RangeStart { get; set; }

    /// <summary>One past the last key hash the shard owns (0: the end of the hash space).</summary>
    [Id(10)]
    public ulong RangeEnd { get; set; }

    /// <summary>The floor of the shard's last split (the log position after which the moved rows are gone), for a repeated split call.</summary>
    [Id(11)]
    public long SplitFloor { get; set; }
}
