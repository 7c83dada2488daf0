namespace DeepRetrieval.Orleans.Grains;

/// <summary>The persisted state of a catalog grain: every collection of the store and where it is in its life.</summary>
[GenerateSerializer]
public sealed class CatalogState
{
    /// <summary>The collections by name.</summary>
    [Id(0)]
    public Dictionary<string, CatalogEntry> Collections { get; set; } = [];
}

/// <summary>One collection of a catalog.</summary>
[GenerateSerializer]
public sealed class CatalogEntry
{
    /// <summary>The collection.</summary>
    [Id(0)]
    public CollectionDescriptor Descriptor { get; set; } = new();

    /// <summary>Where it is in its life.</summary>
    [Id(1)]
    public CatalogEntryState State { get; set; }

    /// <summary>The shard being split (recorded before the split starts, so that a failed one is finished later), or −1.</summary>
    [Id(2)]
    public int PendingSplit { get; set; } = -1;
}

/// <summary>The life of a catalog entry: only <see cref="Ready"/> collections are visible.</summary>
[GenerateSerializer]
public enum CatalogEntryState
{
    /// <summary>Recorded; its shards are being initialised.</summary>
    Creating = 0,

    /// <summary>Usable.</summary>
    Ready = 1,

    /// <summary>Its shards are being dropped.</summary>
    Deleting = 2,
}
