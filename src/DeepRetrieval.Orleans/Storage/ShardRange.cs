namespace DeepRetrieval.Orleans.Storage;

/// <summary>The key-hash range a shard owns, and the shard-map version at which it last changed.</summary>
/// <param name="MapVersion">The map version.</param>
/// <param name="Start">The first hash.</param>
/// <param name="End">One past the last hash (0: the end of the hash space).</param>
internal readonly record struct ShardRange(long MapVersion, ulong Start, ulong End)
{
    public bool Contains(ulong hash) => hash >= Start && (End == 0 || hash < End);
}
