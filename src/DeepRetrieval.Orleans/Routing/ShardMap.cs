using DeepRetrieval.Orleans.Grains;

namespace DeepRetrieval.Orleans.Routing;

/// <summary>
/// Which shard owns a key: the 64-bit key hash space is cut into contiguous ranges, one per shard. A collection starts with
/// equal ranges; splitting a shard halves its range, so one hot shard can be split without moving any other shard's records.
/// </summary>
public sealed class ShardMap
{
    private readonly ulong[] _starts;
    private readonly int[] _shards;

    /// <summary>Creates a map from range starts (ascending, the first 0) and the shard owning each range.</summary>
    /// <param name="starts">The first hash of each range.</param>
    /// <param name="shards">The shard id of each range.</param>
    /// <exception cref="ArgumentException">The ranges are empty, unsorted, do not start at 0, or shard ids repeat.</exception>
    public ShardMap(IReadOnlyList<ulong> starts, IReadOnlyList<int> shards)
    {
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(shards);
        if (starts.Count == 0 || starts.Count != shards.Count) throw new ArgumentException("A shard map needs one range start per shard, and at least one shard.");
        if (starts[0] != 0) throw new ArgumentException("The first range of a shard map must start at hash 0.");
        for (int i = 1; i < starts.Count; i++)
            if (starts[i] <= starts[i - 1]) throw new ArgumentException("The range starts of a shard map must increase.");
        if (shards.Distinct().Count() != shards.Count) throw new ArgumentException("A shard owns one range of a shard map.");
        _starts = starts.ToArray();
        _shards = shards.ToArray();
    }

    /// <summary>The map of a collection.</summary>
    /// <param name="collection">The collection.</param>
    public static ShardMap Of(CollectionDescriptor collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return new ShardMap(collection.RangeStarts, collection.ShardIds);
    }

    /// <summary>Equal ranges for <paramref name="count"/> shards numbered 0 … count − 1.</summary>
    /// <param name="count">The number of shards.</param>
    public static ShardMap Uniform(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var starts = new ulong[count];
        UInt128 span = (UInt128)ulong.MaxValue + 1;
        for (int i = 0; i < count; i++) starts[i] = (ulong)(span * (uint)i / (uint)count);
        return new ShardMap(starts, Enumerable.Range(0, count).ToArray());
    }

    /// <summary>The range starts.</summary>
    public IReadOnlyList<ulong> Starts => _starts;

    /// <summary>The shard ids, one per range.</summary>
    public IReadOnlyList<int> Shards => _shards;

    /// <summary>The shard that owns a hash.</summary>
    /// <param name="hash">A key hash.</param>
    public int ShardOf(ulong hash)
    {
        int i = Array.BinarySearch(_starts, hash);
        return _shards[i >= 0 ? i : ~i - 1];
    }

    /// <summary>The shard that owns a key.</summary>
    /// <param name="key">A key.</param>
    public int ShardOfKey(object key) => ShardOf(KeyHash.Of(key));
}
