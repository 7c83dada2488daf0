using System.Globalization;

namespace DeepRetrieval.Orleans.Grains;

/// <summary>
/// What a router needs to know about a distributed collection: its incarnation, schema, shard map and replica count. The
/// catalog grain hands it out; it never changes for an incarnation except when a shard is split.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class CollectionDescriptor
{
    /// <summary>The collection name.</summary>
    [Id(0)]
    public string Name { get; set; } = "";

    /// <summary>The incarnation: a new one each time a collection of this name is created, so grains of a deleted one never serve it.</summary>
    [Id(1)]
    public Guid Epoch { get; set; }

    /// <summary>The schema, as <c>RecordCodec.EncodeSchema</c> writes it.</summary>
    [Id(2)]
    public byte[] Schema { get; set; } = [];

    /// <summary>Read replicas per shard besides the primary.</summary>
    [Id(3)]
    public int ReplicaCount { get; set; }

    /// <summary>The first key hash of each shard's range, ascending from 0.</summary>
    [Id(4)]
    public ulong[] RangeStarts { get; set; } = [];

    /// <summary>The shard owning each range.</summary>
    [Id(5)]
    public int[] ShardIds { get; set; } = [];

    /// <summary>The shard map's version: 0 at creation, one more after each split. Shards reject requests made with an older map.</summary>
    [Id(6)]
    public long MapVersion { get; set; }

    /// <summary>
    /// Per shard (in <see cref="ShardIds"/> order), the log position a member must have applied to serve this map: a split
    /// shard's members must have applied the deletion of the rows that moved, or a read would see them twice.
    /// </summary>
    [Id(7)]
    public long[] ShardFloors { get; set; } = [];

    /// <summary>The log position a member of <paramref name="shard"/> must have applied to serve this map.</summary>
    /// <param name="shard">A shard id.</param>
    public long FloorOf(int shard)
    {
        int i = Array.IndexOf(ShardIds, shard);
        return i < 0 || i >= ShardFloors.Length ? 0 : ShardFloors[i];
    }

    /// <summary>The hash range of a shard: its first hash and one past its last (0 for the end of the hash space).</summary>
    /// <param name="shard">A shard id.</param>
    /// <exception cref="ArgumentException">The collection has no such shard.</exception>
    public (ulong Start, ulong End) RangeOf(int shard)
    {
        int i = Array.IndexOf(ShardIds, shard);
        if (i < 0) throw new ArgumentException($"Collection '{Name}' has no shard {shard}; its shards are {string.Join(", ", ShardIds)}.", nameof(shard));
        return (RangeStarts[i], i + 1 < RangeStarts.Length ? RangeStarts[i + 1] : 0);
    }

    /// <summary>The grain key (and storage key) of a shard's primary: <c>&lt;epoch&gt;/&lt;shard&gt;</c>.</summary>
    /// <param name="shard">A shard id.</param>
    public string ShardKey(int shard) => string.Create(CultureInfo.InvariantCulture, $"{Epoch:N}/{shard}");

    /// <summary>The grain key of a shard's read replica <paramref name="member"/> (1 … <see cref="ReplicaCount"/>).</summary>
    /// <param name="shard">A shard id.</param>
    /// <param name="member">The replica number.</param>
    public string ReplicaKey(int shard, int member) => string.Create(CultureInfo.InvariantCulture, $"{Epoch:N}/{shard}/{member}");

    /// <summary>The storage key of the shard a primary or replica grain key belongs to.</summary>
    /// <param name="grainKey">A primary or replica grain key.</param>
    public static string ShardKeyOf(string grainKey)
    {
        ArgumentNullException.ThrowIfNull(grainKey);
        int first = grainKey.IndexOf('/', StringComparison.Ordinal);
        int second = first < 0 ? -1 : grainKey.IndexOf('/', first + 1);
        return second < 0 ? grainKey : grainKey[..second];
    }

    /// <summary>Parses the shard id and member (0 for the primary) from a grain key.</summary>
    /// <param name="grainKey">A primary or replica grain key.</param>
    public static (int Shard, int Member) ParseKey(string grainKey)
    {
        string[] parts = grainKey.Split('/');
        if (parts.Length is < 2 or > 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int shard))
            throw new ArgumentException($"'{grainKey}' is not a shard grain key (<epoch>/<shard>[/<replica>]).", nameof(grainKey));
        int member = 0;
        if (parts.Length == 3 && (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out member) || member < 1))
            throw new ArgumentException($"'{grainKey}' has a bad replica number.", nameof(grainKey));
        return (shard, member);
    }
}
