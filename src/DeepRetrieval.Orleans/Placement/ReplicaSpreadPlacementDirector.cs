using System.IO.Hashing;
using System.Text;
using DeepRetrieval.Orleans.Grains;
using Orleans.Runtime.Placement;

namespace DeepRetrieval.Orleans.Placement;

/// <summary>The placement director of <see cref="ReplicaSpreadPlacement"/>.</summary>
internal sealed class ReplicaSpreadPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        SiloAddress[] compatible = context.GetCompatibleSilos(target);
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hint) return Task.FromResult(hint);
        SiloAddress[] silos = compatible.Order().ToArray();
        string key = target.GrainIdentity.Key.ToString();
        int slot;
        try
        {
            var (shard, member) = CollectionDescriptor.ParseKey(key);
            string epoch = key[..key.IndexOf('/', StringComparison.Ordinal)];
            uint spread = (uint)XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(epoch));
            slot = (int)(((ulong)spread + (uint)shard + (uint)member) % (ulong)silos.Length);
        }
        catch (ArgumentException)
        {
            // Not a shard key: fall back to hashing the whole identity.
            slot = (int)((target.GrainIdentity.GetUniformHashCode() & 0x7fffffff) % (uint)silos.Length);
        }
        return Task.FromResult(silos[slot]);
    }
}
