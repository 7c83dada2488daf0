using Orleans.Runtime;

namespace DeepRetrieval.Orleans.Placement;

/// <summary>
/// Places the members of a shard's replica set (the primary and its replicas) on different silos: member m of shard s goes to
/// silo (s + m + h) mod n of the n compatible silos in address order, where h is a hash of the collection incarnation, so the
/// primaries of a collection spread over the silos and a shard loses at most one member when one silo dies (as long as there
/// are at least as many silos as members).
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ReplicaSpreadPlacement : PlacementStrategy
{
    internal static ReplicaSpreadPlacement Singleton { get; } = new();
}
