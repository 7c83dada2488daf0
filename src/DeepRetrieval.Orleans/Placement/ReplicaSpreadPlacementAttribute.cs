using Orleans.Placement;

namespace DeepRetrieval.Orleans.Placement;

/// <summary>Marks a grain class keyed by a shard key to be placed by <see cref="ReplicaSpreadPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ReplicaSpreadPlacementAttribute : PlacementAttribute
{
    /// <summary>Creates the attribute.</summary>
    public ReplicaSpreadPlacementAttribute()
        : base(ReplicaSpreadPlacement.Singleton)
    {
    }
}
